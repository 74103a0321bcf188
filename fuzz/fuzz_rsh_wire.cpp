// Fuzz target: the remote-launch (rsh) wire of node_agent/remote/rsh_wire.hpp: the request line
// a peer sends to an agent's exec server (reachable from the pool network), and the frames the
// rsh client reads back. The input is both: the request line, and the same bytes as a stream
// of frames fed to a FrameDecoder in chunks of the first byte's size.
// Invariants: nothing crashes; refusals are InvalidRshMessage; an accepted request re-encodes
// to a line that decodes to the same request; decoded frames re-encode to the bytes they used.
#include "node_agent/remote/rsh_wire.hpp"

#include "fuzz/fuzz_check.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace remote = openbatch::agent::remote;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  if (const auto request = remote::decode_request(bytes); request) {
    const auto again = remote::decode_request(remote::encode_request(*request));
    FUZZ_CHECK(again && *again == *request, "an encoded request decodes to the same request");
  } else {
    FUZZ_CHECK(request.error().code == remote::kInvalidRshMessage, "the refusal's code");
  }

  if (const auto first = remote::decode_frame(bytes); first && *first) {
    const auto& [frame, consumed] = **first;
    FUZZ_CHECK(remote::encode_frame(frame.type, frame.payload) == bytes.substr(0, consumed),
               "a decoded frame re-encodes to the bytes it used");
  }
  const std::size_t chunk = size == 0 ? 1 : std::max<std::size_t>(1, data[0]);
  remote::FrameDecoder decoder;
  for (std::size_t at = 0; at < size; at += chunk) {
    decoder.feed(bytes.substr(at, chunk));
    for (;;) {
      const auto frame = decoder.next();
      if (!frame) {
        FUZZ_CHECK(frame.error().code == remote::kInvalidRshMessage, "the refusal's code");
        return 0;
      }
      if (!*frame) break;
      if ((*frame)->type == remote::FrameType::Exit)
        (void)remote::decode_exit_payload((*frame)->payload);
    }
  }
  return 0;
}
