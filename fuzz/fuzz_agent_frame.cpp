// Fuzz target: the agent protocol frame decoder (common/protocol/agent_protocol.hpp) on any
// bytes, as the scheduler reads an agent's frames and the agent reads the scheduler's.
// Invariants: decode() never crashes or throws; a refusal is a 400 InvalidMessage; an
// accepted frame re-encodes to a frame that decodes to the same message.
#include "common/protocol/agent_protocol.hpp"

#include "fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace protocol = openbatch::protocol;
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const auto message = protocol::decode(frame);
  if (!message) {
    FUZZ_CHECK(message.error().status == 400, "a refusal is a 400");
    FUZZ_CHECK(message.error().code == "InvalidMessage", "the refusal's code");
    return 0;
  }
  const std::string again = protocol::encode(*message);
  const auto round_trip = protocol::decode(again);
  FUZZ_CHECK(round_trip.has_value(), "an encoded message decodes");
  FUZZ_CHECK(*round_trip == *message, "encode then decode gives the same message");
  return 0;
}
