#include "node_agent/remote/exec_listen.hpp"

#include <charconv>

namespace openbatch::agent::remote {
namespace {

Error invalid(std::string_view text, std::string_view why) {
  return Error(400, "InvalidOption",
               "--exec-listen " + std::string(text) + ": " + std::string(why));
}

}  // namespace

Result<ExecListen> parse_exec_listen(std::string_view text) {
  if (text == "off") return ExecListen{ExecListen::Mode::Off, {}, 0};
  std::string_view host = text;
  std::optional<std::string_view> port_text;
  if (text.starts_with('[')) {  // [IPv6]:PORT or [IPv6]
    const auto close = text.find(']');
    if (close == std::string_view::npos)
      return invalid(text, "an IPv6 address needs its closing ']'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid(text, "expected ':PORT' after ']'");
      port_text = rest.substr(1);
    }
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) return invalid(text, "write an IPv6 address as [ADDRESS]:PORT");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (host.empty()) return invalid(text, "the address is empty (auto, off or an IP address)");
  ExecListen out;
  if (port_text) {
    unsigned value = 0;
    auto [end, ec] =
        std::from_chars(port_text->data(), port_text->data() + port_text->size(), value);
    if (port_text->empty() || ec != std::errc() || end != port_text->data() + port_text->size() ||
        value > 65535) {
      return invalid(text, "the port must be a number 0..65535");
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  if (host == "auto") {
    out.mode = ExecListen::Mode::Auto;
  } else {
    out.mode = ExecListen::Mode::Fixed;
    out.address = std::string(host);
  }
  return out;
}

std::optional<ExecBind> exec_bind_for(const ExecListen& listen, bool inter_node_communication,
                                      const std::optional<std::string>& node_address) {
  if (listen.mode == ExecListen::Mode::Off || !inter_node_communication) return std::nullopt;
  if (listen.mode == ExecListen::Mode::Fixed) return ExecBind{listen.address, listen.port};
  if (!node_address || node_address->empty()) return std::nullopt;
  return ExecBind{*node_address, listen.port};
}

}  // namespace openbatch::agent::remote
