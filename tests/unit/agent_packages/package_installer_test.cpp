// PackageInstaller with a fake fetcher that copies a zip built in the test: installs once,
// verifies size and SHA-256 before extracting, replaces a package whose SHA-256 changed, and
// serializes concurrent installs of one package.
#include "node_agent/packages/package_installer.hpp"

#include "node_agent/packages/sha256_file.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/agent_packages/archive_builder.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

namespace openbatch::agent::packages {
namespace {

namespace fs = std::filesystem;
using openbatch::testing::TempDir;
using namespace packages::testing;  // NOLINT(google-build-using-namespace): test builders

// Serves the archive at `source` for any URL, counting calls.
struct FakeServer {
  fs::path source;
  std::atomic<int> calls{0};
  std::chrono::milliseconds delay{0};
  std::string last_token;
  std::string last_url;

  Fetcher fetcher() {
    return
        [this](const std::string& url, const std::string& token, const fs::path& dest) -> Status {
          ++calls;
          last_url = url;
          last_token = token;
          std::this_thread::sleep_for(delay);
          std::error_code ec;
          fs::copy_file(source, dest, fs::copy_options::overwrite_existing, ec);
          if (ec) return Error(502, "PackageDownloadFailed", ec.message());
          return {};
        };
  }
};

struct Node {
  TempDir tmp;
  fs::path root = tmp.path() / "root";
  fs::path zip = tmp.path() / "GPUDriver.zip";
  FakeServer server;
  PackageInstaller installer{root, "http://scheduler:8080/", server.fetcher()};

  Node() { server.source = zip; }

  protocol::PackageRef ref(const std::vector<ArchiveEntry>& entries) {
    write_archive(zip, entries);
    protocol::PackageRef r;
    r.application_id = "GPUDriver";
    r.version = "411.82";
    r.sha256 = *sha256_file(zip);
    r.size = fs::file_size(zip);
    return r;
  }
};

TEST(PackageInstaller, InstallsIntoApplicationsIdUnderscoreVersion) {
  Node n;
  const protocol::PackageRef ref = n.ref({file_entry("install.sh", "#!/bin/sh\n", 0755)});
  auto dir = n.installer.install(ref, "node-token");
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_EQ(*dir, n.root / "applications" / "GPUDriver_411.82");
  EXPECT_EQ(*dir, n.installer.package_dir(ref));
  EXPECT_EQ(file_bytes(*dir / "install.sh"), "#!/bin/sh\n");
  EXPECT_EQ(file_bytes(n.root / "applications" / ".GPUDriver_411.82.sha256"), ref.sha256 + "\n");
  EXPECT_EQ(n.server.last_token, "node-token");
  EXPECT_EQ(n.server.last_url, "http://scheduler:8080/agent/v1/packages/" + ref.sha256);
  EXPECT_TRUE(fs::is_empty(n.root / "applications" / ".downloads"));
}

TEST(PackageInstaller, ASecondInstallOfTheSameShaDownloadsNothing) {
  Node n;
  const protocol::PackageRef ref = n.ref({file_entry("a.txt", "a")});
  ASSERT_TRUE(n.installer.install(ref, "t"));
  auto again = n.installer.install(ref, "t");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(n.server.calls, 1);
  // A new installer (an agent restart) finds it too.
  PackageInstaller restarted(n.root, "http://scheduler:8080", n.server.fetcher());
  ASSERT_TRUE(restarted.install(ref, "t"));
  EXPECT_EQ(n.server.calls, 1);
}

TEST(PackageInstaller, AShaMismatchIsRefusedAndNothingIsInstalled) {
  Node n;
  protocol::PackageRef ref = n.ref({file_entry("a.txt", "a")});
  const std::string actual = ref.sha256;
  ref.sha256 = std::string(64, 'a');
  auto dir = n.installer.install(ref, "t");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, kPackageInstallFailed);
  EXPECT_EQ(dir.error().message, "package GPUDriver 411.82: SHA-256 mismatch (expected " +
                                     std::string(64, 'a') + ", got " + actual + ")");
  EXPECT_FALSE(fs::exists(n.installer.package_dir(ref)));
  EXPECT_FALSE(fs::exists(n.root / "applications" / ".GPUDriver_411.82.sha256"));
  EXPECT_TRUE(fs::is_empty(n.root / "applications" / ".downloads"));
}

TEST(PackageInstaller, ASizeMismatchIsRefused) {
  Node n;
  protocol::PackageRef ref = n.ref({file_entry("a.txt", "a")});
  ref.size += 1;
  auto dir = n.installer.install(ref, "t");
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message.find("size mismatch"), std::string::npos) << dir.error().message;
  EXPECT_FALSE(fs::exists(n.installer.package_dir(ref)));
}

TEST(PackageInstaller, AMaliciousPackageIsRefusedWithTheEntryNamed) {
  Node n;
  const protocol::PackageRef ref = n.ref({file_entry("../../escape.sh", "x")});
  auto dir = n.installer.install(ref, "t");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, kPackageExtractionFailed);
  EXPECT_EQ(dir.error().message,
            "package GPUDriver 411.82: zip entry '../../escape.sh': path escapes the package "
            "folder");
  EXPECT_FALSE(fs::exists(n.root / "escape.sh"));
  EXPECT_FALSE(fs::exists(n.installer.package_dir(ref)));
}

TEST(PackageInstaller, AFetchErrorIsReportedWithThePackageName) {
  TempDir tmp;
  PackageInstaller installer(tmp.path(), "http://s",
                             [](const std::string&, const std::string&, const fs::path&) -> Status {
                               return Error(502, "PackageDownloadFailed",
                                            "downloading x: HTTP 404");
                             });
  protocol::PackageRef ref{"app", "1.0", std::string(64, 'b'), 0, false};
  auto dir = installer.install(ref, "t");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, "PackageDownloadFailed");
  EXPECT_EQ(dir.error().message, "package app 1.0: downloading x: HTTP 404");
}

TEST(PackageInstaller, ANewShaReplacesTheInstalledPackage) {
  Node n;
  const protocol::PackageRef v1 = n.ref({file_entry("old.txt", "1")});
  ASSERT_TRUE(n.installer.install(v1, "t"));
  const protocol::PackageRef v2 = n.ref({file_entry("new.txt", "2")});
  auto dir = n.installer.install(v2, "t");
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_EQ(n.server.calls, 2);
  EXPECT_FALSE(fs::exists(*dir / "old.txt"));
  EXPECT_EQ(file_bytes(*dir / "new.txt"), "2");
  EXPECT_EQ(file_bytes(n.root / "applications" / ".GPUDriver_411.82.sha256"), v2.sha256 + "\n");
}

TEST(PackageInstaller, AFolderWithoutMarkerIsInstalledAgain) {
  Node n;
  const protocol::PackageRef ref = n.ref({file_entry("a.txt", "a")});
  fs::create_directories(n.installer.package_dir(ref));  // e.g. a crash before the marker
  std::ofstream(n.installer.package_dir(ref) / "junk") << "x";
  ASSERT_TRUE(n.installer.install(ref, "t"));
  EXPECT_EQ(n.server.calls, 1);
  EXPECT_FALSE(fs::exists(n.installer.package_dir(ref) / "junk"));
}

TEST(PackageInstaller, ConcurrentInstallsOfOnePackageDownloadOnce) {
  Node n;
  const protocol::PackageRef ref =
      n.ref({file_entry("bin/tool", "tool", 0755), file_entry("lib/x", "x")});
  n.server.delay = std::chrono::milliseconds(100);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (n.installer.install(ref, "t")) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 4);
  EXPECT_EQ(n.server.calls, 1);
  EXPECT_EQ(file_bytes(n.installer.package_dir(ref) / "bin" / "tool"), "tool");
}

TEST(PackageInstaller, NamesThatAreNotPathSafeAreRefused) {
  Node n;
  protocol::PackageRef ref = n.ref({file_entry("a", "a")});
  for (const std::string& bad :
       std::vector<std::string>{"../x", "a/b", "", ".hidden", std::string(65, 'a')}) {
    protocol::PackageRef r = ref;
    r.application_id = bad;
    auto dir = n.installer.install(r, "t");
    ASSERT_FALSE(dir) << bad;
    EXPECT_EQ(dir.error().code, kPackageInstallFailed);
    r = ref;
    r.version = bad;
    ASSERT_FALSE(n.installer.install(r, "t")) << bad;
  }
  ref.sha256 = "not-hex";
  ASSERT_FALSE(n.installer.install(ref, "t"));
  EXPECT_EQ(n.server.calls, 0);
}

TEST(PackageInstaller, AnUppercaseShaIsAccepted) {
  Node n;
  protocol::PackageRef ref = n.ref({file_entry("a", "a")});
  std::transform(ref.sha256.begin(), ref.sha256.end(), ref.sha256.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  ASSERT_TRUE(n.installer.install(ref, "t"));
  ASSERT_TRUE(n.installer.install(ref, "t"));
  EXPECT_EQ(n.server.calls, 1);
}

}  // namespace
}  // namespace openbatch::agent::packages
