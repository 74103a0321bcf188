// The rsh wire format: the request line and the frames, including what a decoder must refuse.
#include "node_agent/remote/rsh_wire.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace openbatch::agent::remote {
namespace {

using nlohmann::json;

RshRequest sample() {
  return {"job-1", "task-7", "s3cr3t", {"orted", "-mca", "ess", "env", "--tree-spawn"}};
}

std::string line_of(const json& j) { return j.dump() + "\n"; }

TEST(RshRequestWire, RoundTripsAsOneJsonLine) {
  const std::string line = encode_request(sample());
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line";
  const json j = json::parse(line);
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["jobId"], "job-1");
  EXPECT_EQ(j["taskId"], "task-7");
  EXPECT_EQ(j["token"], "s3cr3t");
  EXPECT_EQ(j["command"].size(), 5u);
  auto back = decode_request(line);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, sample());
}

TEST(RshRequestWire, AcceptsALineWithoutItsNewlineAndIgnoresUnknownFields) {
  json j = json::parse(encode_request(sample()));
  j["addedLater"] = {1, 2};
  auto r = decode_request(j.dump());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, sample());
}

TEST(RshRequestWire, CommandWordsKeepNewlinesAndQuotesEscaped) {
  RshRequest r = sample();
  r.command = {"echo", "\"a\nb\"", "$HOME"};
  const std::string line = encode_request(r);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto back = decode_request(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->command, r.command);
}

TEST(RshRequestWire, RefusesBadJsonAndWrongShapes) {
  const json good = json::parse(encode_request(sample()));
  auto refused = [](const std::string& line) {
    auto r = decode_request(line);
    EXPECT_FALSE(r) << line;
    if (!r) {
      EXPECT_EQ(r.error().code, kInvalidRshMessage);
      return r.error().message;
    }
    return std::string();
  };
  EXPECT_NE(refused("{\"v\":1,").find("not JSON"), std::string::npos);
  EXPECT_NE(refused("").find("not JSON"), std::string::npos);
  EXPECT_NE(refused("[1,2]\n").find("not a JSON object"), std::string::npos);
  EXPECT_NE(refused("{}\n{}\n").find("one line"), std::string::npos);
  for (const char* field : {"v", "jobId", "taskId", "token", "command"}) {
    json j = good;
    j.erase(field);
    EXPECT_NE(refused(line_of(j)).find(field), std::string::npos) << field;
  }
  json j = good;
  j["v"] = 2;
  EXPECT_NE(refused(line_of(j)).find("version"), std::string::npos);
  j = good;
  j["v"] = "1";
  refused(line_of(j));
  j = good;
  j["jobId"] = 7;
  EXPECT_NE(refused(line_of(j)).find("jobId"), std::string::npos);
  j = good;
  j["token"] = "";
  EXPECT_NE(refused(line_of(j)).find("empty"), std::string::npos);
  j = good;
  j["command"] = json::array();
  EXPECT_NE(refused(line_of(j)).find("empty"), std::string::npos);
  j = good;
  j["command"] = "orted -mca";
  refused(line_of(j));
  j = good;
  j["command"] = {"orted", 5};
  refused(line_of(j));
}

TEST(RshRequestWire, RefusesOversizeAndDeepNesting) {
  RshRequest big = sample();
  big.command = {std::string(kMaxRequestBytes, 'x')};
  auto r = decode_request(encode_request(big));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("larger"), std::string::npos);

  json j = json::parse(encode_request(sample()));
  std::string deep(1000, '[');
  deep += std::string(1000, ']');
  std::string line = j.dump();
  line.insert(line.size() - 1, ",\"x\":" + deep);
  auto d = decode_request(line);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("deep"), std::string::npos);
}

TEST(RshFrames, EncodeTypeLengthPayload) {
  const std::string f = encode_frame(FrameType::Stdout, "hi");
  EXPECT_EQ(f, std::string("O\0\0\0\x02hi", 7));
  EXPECT_EQ(encode_exit_frame(3), std::string("X\0\0\0\x04\0\0\0\x03", 9));
  EXPECT_EQ(encode_exit_frame(-1), std::string("X\0\0\0\x04\xff\xff\xff\xff", 9));
  auto d = decode_frame(f);
  ASSERT_TRUE(d);
  ASSERT_TRUE(*d);
  EXPECT_EQ((*d)->consumed, 7u);
  EXPECT_EQ((*d)->frame, (Frame{FrameType::Stdout, "hi"}));
}

TEST(RshFrames, ExitPayloadIsFourSignedBytes) {
  for (std::int32_t code : {0, 3, 143, 255, -1, 70000}) {
    auto d = decode_frame(encode_exit_frame(code));
    ASSERT_TRUE(d && *d);
    EXPECT_EQ((*d)->frame.type, FrameType::Exit);
    auto back = decode_exit_payload((*d)->frame.payload);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, code);
  }
  EXPECT_FALSE(decode_exit_payload("abc"));
  EXPECT_FALSE(decode_exit_payload("abcde"));
  EXPECT_FALSE(decode_exit_payload(""));
}

TEST(RshFrames, TruncatedFramesAskForMore) {
  const std::string f = encode_frame(FrameType::Stderr, "0123456789");
  for (std::size_t n = 0; n < f.size(); ++n) {
    auto d = decode_frame(std::string_view(f).substr(0, n));
    ASSERT_TRUE(d) << n;
    EXPECT_FALSE(*d) << n;
  }
  auto whole = decode_frame(f + "R");
  ASSERT_TRUE(whole && *whole);
  EXPECT_EQ((*whole)->consumed, f.size());
}

TEST(RshFrames, RefusesUnknownTypesAndOversizeLengths) {
  auto unknown = decode_frame(std::string("Z\0\0\0\0", 5));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, kInvalidRshMessage);
  EXPECT_FALSE(decode_frame("Z")) << "the type alone is enough to refuse";
  std::string huge("O\x00\x10\x00\x01", 5);  // 1 MiB + 1
  EXPECT_FALSE(decode_frame(huge));
  std::string max("O\x00\x10\x00\x00", 5);  // exactly 1 MiB: wait for it
  auto at_max = decode_frame(max);
  ASSERT_TRUE(at_max);
  EXPECT_FALSE(*at_max);
}

TEST(RshFrames, DecoderReassemblesAByteStreamCutAnywhere) {
  std::string stream;
  append_frame(stream, FrameType::Stdout, "out\n");
  append_frame(stream, FrameType::Stderr, "");
  append_frame(stream, FrameType::Stderr, std::string(100000, 'e'));
  append_frame(stream, FrameType::Refused, "no");
  stream += encode_exit_frame(7);
  for (std::size_t step : {1u, 3u, 4096u, 1000000u}) {
    FrameDecoder decoder;
    std::vector<Frame> frames;
    for (std::size_t at = 0; at < stream.size(); at += step) {
      decoder.feed(std::string_view(stream).substr(at, step));
      while (true) {
        auto f = decoder.next();
        ASSERT_TRUE(f) << f.error().message;
        if (!*f) break;
        frames.push_back(std::move(**f));
      }
    }
    EXPECT_EQ(decoder.buffered(), 0u);
    ASSERT_EQ(frames.size(), 5u) << step;
    EXPECT_EQ(frames[0], (Frame{FrameType::Stdout, "out\n"}));
    EXPECT_EQ(frames[1], (Frame{FrameType::Stderr, ""}));
    EXPECT_EQ(frames[2].payload.size(), 100000u);
    EXPECT_EQ(frames[3], (Frame{FrameType::Refused, "no"}));
    EXPECT_EQ(*decode_exit_payload(frames[4].payload), 7);
  }
}

TEST(RshFrames, DecoderReportsAGarbledStream) {
  FrameDecoder decoder;
  decoder.feed(encode_frame(FrameType::Stdout, "ok"));
  decoder.feed("garbage");
  auto first = decoder.next();
  ASSERT_TRUE(first && *first);
  EXPECT_FALSE(decoder.next());
}

}  // namespace
}  // namespace openbatch::agent::remote
