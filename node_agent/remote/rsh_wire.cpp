// The rsh wire format (see rsh_wire.hpp).
#include "node_agent/remote/rsh_wire.hpp"

#include <nlohmann/json.hpp>

#include <utility>

namespace openbatch::agent::remote {
namespace {

using nlohmann::json;

Error invalid(std::string message) {
  return Error(400, std::string(kInvalidRshMessage), std::move(message));
}

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

std::uint32_t get_u32(std::string_view b) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(b[0])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(b[1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(b[2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[3]));
}

bool known_type(char c) {
  return c == static_cast<char>(FrameType::Stdout) || c == static_cast<char>(FrameType::Stderr) ||
         c == static_cast<char>(FrameType::Exit) || c == static_cast<char>(FrameType::Refused);
}

Result<std::string> required_string(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return invalid(std::string("the request has no \"") + name + "\"");
  if (!it->is_string()) return invalid(std::string("\"") + name + "\" is not a string");
  std::string value = it->get<std::string>();
  if (value.empty()) return invalid(std::string("\"") + name + "\" is empty");
  return value;
}

}  // namespace

std::string encode_request(const RshRequest& request) {
  json j = {{"v", kRshWireVersion},
            {"jobId", request.job_id},
            {"taskId", request.task_id},
            {"token", request.token},
            {"command", request.command}};
  // Invalid UTF-8 (a stray byte in a command word) is replaced rather than thrown about.
  std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace);
  line.push_back('\n');
  return line;
}

Result<RshRequest> decode_request(std::string_view line) {
  if (line.size() > kMaxRequestBytes) {
    return invalid("the request is larger than " + std::to_string(kMaxRequestBytes) + " bytes");
  }
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.find('\n') != std::string_view::npos) return invalid("the request is not one line");
  // Nesting is bounded: nothing in a request is deeper than the command array.
  constexpr int kMaxDepth = 4;
  bool too_deep = false;
  json j = json::parse(
      line,
      [&too_deep](int depth, json::parse_event_t, json&) {
        if (depth <= kMaxDepth) return true;
        too_deep = true;
        return false;  // not kept
      },
      false);
  if (too_deep) return invalid("the request nests too deeply");
  if (j.is_discarded()) return invalid("the request is not JSON");
  if (!j.is_object()) return invalid("the request is not a JSON object");
  auto v = j.find("v");
  if (v == j.end()) return invalid("the request has no \"v\"");
  if (!v->is_number_integer() || v->get<std::int64_t>() != kRshWireVersion) {
    return invalid("unsupported request version " + v->dump() + " (this agent speaks " +
                   std::to_string(kRshWireVersion) + ")");
  }
  RshRequest r;
  auto job = required_string(j, "jobId");
  if (!job) return job.error();
  r.job_id = std::move(*job);
  auto task = required_string(j, "taskId");
  if (!task) return task.error();
  r.task_id = std::move(*task);
  auto token = required_string(j, "token");
  if (!token) return token.error();
  r.token = std::move(*token);
  auto command = j.find("command");
  if (command == j.end()) return invalid("the request has no \"command\"");
  if (!command->is_array()) return invalid("\"command\" is not an array");
  if (command->empty()) return invalid("\"command\" is empty");
  for (const auto& word : *command) {
    if (!word.is_string()) return invalid("\"command\" holds something other than strings");
    r.command.push_back(word.get<std::string>());
  }
  return r;
}

void append_frame(std::string& out, FrameType type, std::string_view payload) {
  out.push_back(static_cast<char>(type));
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  out.append(payload);
}

std::string encode_frame(FrameType type, std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  append_frame(out, type, payload);
  return out;
}

std::string encode_exit_frame(std::int32_t exit_code) {
  std::string payload;
  put_u32(payload, static_cast<std::uint32_t>(exit_code));
  return encode_frame(FrameType::Exit, payload);
}

Result<std::int32_t> decode_exit_payload(std::string_view payload) {
  if (payload.size() != 4) {
    return invalid("an exit frame carries 4 bytes, not " + std::to_string(payload.size()));
  }
  return static_cast<std::int32_t>(get_u32(payload));
}

Result<std::optional<DecodedFrame>> decode_frame(std::string_view bytes) {
  if (bytes.empty()) return std::optional<DecodedFrame>();
  if (!known_type(bytes[0])) {
    return invalid("unknown frame type " + std::to_string(static_cast<unsigned char>(bytes[0])));
  }
  if (bytes.size() < kFrameHeaderBytes) return std::optional<DecodedFrame>();
  const std::uint32_t length = get_u32(bytes.substr(1, 4));
  if (length > kMaxFramePayload) {
    return invalid("a frame of " + std::to_string(length) + " bytes is over the limit of " +
                   std::to_string(kMaxFramePayload));
  }
  if (bytes.size() - kFrameHeaderBytes < length) return std::optional<DecodedFrame>();
  DecodedFrame d;
  d.frame.type = static_cast<FrameType>(bytes[0]);
  d.frame.payload.assign(bytes.substr(kFrameHeaderBytes, length));
  d.consumed = kFrameHeaderBytes + length;
  return std::optional<DecodedFrame>(std::move(d));
}

Result<std::optional<Frame>> FrameDecoder::next() {
  auto d = decode_frame(std::string_view(buffer_).substr(start_));
  if (!d) return d.error();
  if (!*d) {
    // Compact once the consumed prefix dominates, so the buffer does not grow without bound.
    if (start_ > 0 && start_ >= buffer_.size() / 2) {
      buffer_.erase(0, start_);
      start_ = 0;
    }
    return std::optional<Frame>();
  }
  start_ += (*d)->consumed;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  return std::optional<Frame>(std::move((*d)->frame));
}

}  // namespace openbatch::agent::remote
