// The rsh wire format: how `openbatch-agent rsh` (rsh_client.hpp) asks a peer node's agent
// (exec_server.hpp) to run a command for a multi-instance task, and how the output and the
// exit status come back. Pure encode/decode functions; no I/O.
//
// One TCP connection per command. Also documented in docs/dev/agent-protocol.md, section
// "Remote launch (rsh)".
//
//   client -> server  ONE request line: a JSON object, UTF-8, terminated by '\n', at most
//                     kMaxRequestBytes including the '\n':
//                       {"v":1,"jobId":"job-1","taskId":"task-1","token":"...",
//                        "command":["orted","-mca","ess","env",...]}
//                     v must be 1; jobId, taskId and token are non-empty strings; command is a
//                     non-empty array of strings (the words ssh would get: the server runs
//                     `$SHELL -c "<words joined by single spaces>"`, as sshd does). Unknown
//                     fields are ignored. After the line the client sends nothing but keeps
//                     its sending side open: stdin is not forwarded (mpirun's orted does not
//                     read it), and EOF from the client means it went away, which kills the
//                     remote process group.
//   server -> client  frames until the server closes the connection:
//                       1 byte type | 4 bytes payload length, big-endian | payload
//                     'O' stdout bytes   'E' stderr bytes   (any size up to kMaxFramePayload)
//                     'X' exit: the payload is exactly 4 bytes, a big-endian signed exit code:
//                         the exit status, or 128 + signal when a signal ended the process;
//                         the last frame; sent once the process was reaped and its stdout and
//                         stderr reached EOF
//                     'R' refused: the payload is a UTF-8 message (`not authorized` for any
//                         refused authorization, what is wrong for a malformed request); the
//                         last frame; nothing ran
//                     Any other type is a protocol error.
//
// Thread-safety: pure functions and a value type (FrameDecoder is not shared).
#pragma once

#include "common/error.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::agent::remote {

inline constexpr int kRshWireVersion = 1;
// The request line's bound, '\n' included.
inline constexpr std::size_t kMaxRequestBytes = 256 * 1024;
// The largest payload a decoder accepts; the server sends at most 64 KiB per frame.
inline constexpr std::size_t kMaxFramePayload = 1024 * 1024;
inline constexpr std::size_t kFrameHeaderBytes = 5;

// Error code of every decoding failure.
inline constexpr std::string_view kInvalidRshMessage = "InvalidRshMessage";

struct RshRequest {
  std::string job_id;                // "jobId"
  std::string task_id;               // "taskId"
  std::string token;                 // "token"
  std::vector<std::string> command;  // "command"
  bool operator==(const RshRequest&) const = default;
};

// The request line, '\n' included.
std::string encode_request(const RshRequest& request);
// Decodes one request line (a trailing '\n' is allowed, nothing after it). An Error
// kInvalidRshMessage names what is wrong: not JSON, too large, wrong version, missing or
// mistyped field, empty command.
[[nodiscard]] Result<RshRequest> decode_request(std::string_view line);

enum class FrameType : char { Stdout = 'O', Stderr = 'E', Exit = 'X', Refused = 'R' };

struct Frame {
  FrameType type = FrameType::Stdout;
  std::string payload;
  bool operator==(const Frame&) const = default;
};

// Appends one frame to `out`.
void append_frame(std::string& out, FrameType type, std::string_view payload);
std::string encode_frame(FrameType type, std::string_view payload);
// The 'X' frame for `exit_code`.
std::string encode_exit_frame(std::int32_t exit_code);
// The exit code of an 'X' payload; an Error unless it is exactly 4 bytes.
[[nodiscard]] Result<std::int32_t> decode_exit_payload(std::string_view payload);

// Decodes the frame at the start of `bytes`: the frame and the bytes it used, nullopt when
// `bytes` holds only part of it (read more), or an Error for an unknown type or a length over
// kMaxFramePayload (the connection is unusable).
struct DecodedFrame {
  Frame frame;
  std::size_t consumed = 0;
};
[[nodiscard]] Result<std::optional<DecodedFrame>> decode_frame(std::string_view bytes);

// An incremental decoder over a byte stream: feed what arrives, take frames while there are.
class FrameDecoder {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, nullopt when more bytes are needed, or an Error (see decode_frame).
  [[nodiscard]] Result<std::optional<Frame>> next();
  // Bytes received that do not form a complete frame yet.
  std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::string buffer_;
  std::size_t start_ = 0;
};

}  // namespace openbatch::agent::remote
