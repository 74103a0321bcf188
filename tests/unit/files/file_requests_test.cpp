// The agent's answers to fileRequest frames: each op over a real node root, errors in the
// response's status/code, reads bounded to one chunk, and answers that fit in a frame.
#include "node_agent/daemon/file_requests.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace openbatch::agent::daemon {
namespace {
namespace fs = std::filesystem;
using protocol::FileOp;
using protocol::FileRequest;

FileRequest request(FileOp op, std::string path) {
  FileRequest r;
  r.request_id = "f1";
  r.op = op;
  r.path = std::move(path);
  return r;
}

class FileRequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "root/startup/wd");
    std::ofstream(dir_.path() / "root/startup/stdout.txt") << "hello";
    std::ofstream(dir_.path() / "outside.txt") << "secret";
  }
  protocol::FileResponse answer(const FileRequest& r) {
    return answer_file_request(files::NodeTree(dir_.path() / "root"), r);
  }
  testing::TempDir dir_;
};

TEST_F(FileRequestsTest, StatsListsReadsAndRemoves) {
  auto stat = answer(request(FileOp::Stat, "startup/stdout.txt"));
  EXPECT_EQ(stat.request_id, "f1");
  EXPECT_EQ(stat.status, 200);
  ASSERT_TRUE(stat.file);
  EXPECT_EQ(stat.file->size, 5u);

  auto list = request(FileOp::List, "startup");
  list.recursive = true;
  auto listed = answer(list);
  ASSERT_TRUE(listed.files);
  ASSERT_EQ(listed.files->size(), 2u);
  EXPECT_EQ((*listed.files)[0].name, "stdout.txt");
  EXPECT_EQ((*listed.files)[1].name, "wd");

  auto read = request(FileOp::Read, "startup/stdout.txt");
  read.range = files::ByteRange{1, 3};
  auto data = answer(read);
  EXPECT_EQ(data.status, 200);
  EXPECT_EQ(data.data, "ell");
  ASSERT_TRUE(data.file);
  EXPECT_EQ(data.file->size, 5u);

  EXPECT_EQ(answer(request(FileOp::Remove, "startup")).status, 409);
  auto removed = answer(request(FileOp::Remove, "startup/stdout.txt"));
  EXPECT_EQ(removed.status, 200);
  EXPECT_FALSE(removed.file || removed.files || removed.data || removed.code);
  auto gone = answer(request(FileOp::Stat, "startup/stdout.txt"));
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.code, "FileNotFound");
  EXPECT_TRUE(gone.message);
}

TEST_F(FileRequestsTest, NeverAnswersFromOutsideTheRoot) {
  for (auto op : {FileOp::Stat, FileOp::Read, FileOp::Remove}) {
    EXPECT_EQ(answer(request(op, "../outside.txt")).status, 404);
  }
  EXPECT_TRUE(fs::exists(dir_.path() / "outside.txt"));
  EXPECT_EQ(answer(request(FileOp::Read, "startup/stdout.txt")).data, "hello");
  auto past_end = request(FileOp::Read, "startup/stdout.txt");
  past_end.range = files::ByteRange{5, std::nullopt};
  EXPECT_EQ(answer(past_end).status, 416);
}

TEST_F(FileRequestsTest, ReadsAtMostOneChunkAndTheFrameFits) {
  std::string big(protocol::kMaxFileChunkBytes + 1000, 'x');
  std::ofstream(dir_.path() / "root/startup/big.bin", std::ios::binary) << big;
  auto response = answer(request(FileOp::Read, "startup/big.bin"));
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.data->size(), protocol::kMaxFileChunkBytes);
  EXPECT_EQ(response.file->size, big.size());
  const std::string frame = protocol::encode({7, response});
  EXPECT_LT(frame.size(), protocol::kMaxFrameBytes);
  EXPECT_TRUE(protocol::decode(frame));

  auto rest = request(FileOp::Read, "startup/big.bin");
  rest.range = files::ByteRange{protocol::kMaxFileChunkBytes, std::nullopt};
  EXPECT_EQ(answer(rest).data->size(), 1000u);
}

TEST_F(FileRequestsTest, ListingsAreCappedToOneFrame) {
  // Long names: the answer is cut before its frame could pass 4 MiB (escaped names included).
  for (int i = 0; i < 3000; ++i) {
    std::ofstream(dir_.path() / "root/startup/wd" / (std::string(240, 'n') + std::to_string(i)))
        << "";
  }
  auto list = request(FileOp::List, "startup/wd");
  list.limit = 100000;
  auto response = answer(list);
  ASSERT_EQ(response.status, 200);
  EXPECT_GT(response.files->size(), 1000u);
  EXPECT_LT(response.files->size(), 3000u);
  const std::string frame = protocol::encode({8, response});
  EXPECT_LT(frame.size(), protocol::kMaxFrameBytes);
  EXPECT_TRUE(protocol::decode(frame));
}

}  // namespace
}  // namespace openbatch::agent::daemon
