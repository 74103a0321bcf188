// openbatch-scheduler: wiring only. Parses flags (or a TOML/INI config file with the same
// keys), opens the store, loads the catalog, starts the HTTP server and the lifecycle sweeper
// on an io_context thread pool, and shuts down gracefully on SIGTERM/SIGINT: stop accepting,
// finish in-flight requests, drain and close the store.
//
// Secrets: the account key never comes from the command line (startup/account_key.hpp), and
// everything the scheduler creates is private (umask 077; the data directory 0700, see
// startup/data_dirs.hpp); local node roots live in their own --nodes-dir.
#include "common/encoding.hpp"
#include "scheduler/api/router.hpp"
#include "scheduler/api/services.hpp"
#include "scheduler/catalog/catalog.hpp"
#include "scheduler/lifecycle/sweeper.hpp"
#include "scheduler/nodes/engine.hpp"
#include "scheduler/nodes/local_agents.hpp"
#include "scheduler/packages/applications.hpp"
#include "scheduler/server/agent_endpoint.hpp"
#include "scheduler/server/http_server.hpp"
#include "scheduler/server/routed_node_files.hpp"
#include "scheduler/server/streamed_upload.hpp"
#include "scheduler/startup/account_key.hpp"
#include "scheduler/startup/data_dirs.hpp"
#include "scheduler/store/disk_guard.hpp"
#include "scheduler/store/sqlite_store.hpp"
#include "scheduler/store/store.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace openbatch;

namespace {

struct Options {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./openbatch-data";
  std::string nodes_dir;  // default: <data-dir>.nodes
  std::string account = "openbatch";
  std::string key;  // refused (account_key.hpp); parsed only to say so
  std::string key_file;
  std::string public_url;
  std::string images_dir = OPENBATCH_DEFAULT_IMAGES_DIR;
  std::string ready_file;
  std::string log_level = "info";
  bool synchronous_full = true;
  unsigned threads = 0;
  std::string provisioner = "local";
  std::string agent_binary;
  std::vector<std::string> agent_args;
  int heartbeat_seconds = 10;
  bool keep_agents = false;
  std::uint64_t max_package_bytes = 8ull << 30;
  std::size_t max_connections = 0;
  double idle_timeout_seconds = 120;
  double header_timeout_seconds = 20;
  double body_timeout_seconds = 30;
};

std::chrono::milliseconds seconds_option(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

// The agent next to this executable: installed side by side, or in the build tree.
std::string default_agent_binary() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "openbatch-agent";
  for (const fs::path& candidate :
       {self.parent_path() / "openbatch-agent",
        self.parent_path().parent_path() / "node_agent" / "openbatch-agent"}) {
    if (fs::exists(candidate, ec)) return candidate.string();
  }
  return "openbatch-agent";
}

Result<asio::ip::tcp::endpoint> parse_listen(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos)
    return Error(400, "InvalidArgument", "--listen must be HOST:PORT");
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) return Error(400, "InvalidArgument", "--listen: bad address " + host);
  int port = 0;
  try {
    port = std::stoi(text.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) return Error(400, "InvalidArgument", "--listen: bad port");
  return asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port));
}

// True when argv itself names --key (not only the config file).
bool key_in_argv(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--key" || arg.starts_with("--key=")) return true;
  }
  return false;
}

// Written once the URL is known, atomically (temp file, fsync, rename): a reader sees the whole
// URL or no file, never an empty one -- even on a full disk, where the write fails instead.
bool write_ready_file(const std::string& path, const std::string& url) {
  if (path.empty()) return true;
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && ::write(fd, url.data(), url.size()) == static_cast<ssize_t>(url.size()) &&
            ::fchmod(fd, 0644) == 0 &&
            ::fsync(fd) == 0;  // readable by whoever waits for it (umask is 077)
  const int saved = errno;
  if (fd >= 0) ok = ::close(fd) == 0 && ok;
  if (ok && ::rename(tmp.c_str(), path.c_str()) == 0) return true;
  spdlog::error("cannot write the ready file {}: {}", path, std::strerror(ok ? errno : saved));
  ::unlink(tmp.c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"openbatch-scheduler: the OpenBatch scheduler (Azure Batch data-plane API)"};
  app.set_config("--config", "", "TOML/INI file with the same keys as the long flags");
  app.add_option("--listen", opt.listen, "HOST:PORT to listen on (port 0 picks one)")
      ->capture_default_str();
  app.add_option("--data-dir", opt.data_dir,
                 "directory for the database, blobs and keys (made 0700)")
      ->capture_default_str();
  app.add_option("--nodes-dir", opt.nodes_dir,
                 "local agents' node roots, reachable by tasks (default: DATA-DIR.nodes)");
  app.add_option("--account", opt.account, "account name clients sign with")->capture_default_str();
  app.add_option(
      "--key-file", opt.key_file,
      "file (mode 0600) holding the account key, base64 (default: $OPENBATCH_ACCOUNT_KEY, else "
      "DATA-DIR/account.key, generated)");
  // Refused with the reason (account_key.hpp); kept so that the refusal can say why.
  app.add_option("--key", opt.key,
                 "refused: a key on the command line is readable by every local user")
      ->group("");
  app.add_option("--public-url", opt.public_url,
                 "base URL written into entity urls (default: http://LISTEN)");
  app.add_option("--images-dir", opt.images_dir,
                 "catalog directory (vm_sizes.json, supported_images.json)")
      ->capture_default_str();
  app.add_option("--ready-file", opt.ready_file, "write the base URL here once listening");
  app.add_option("--log-level", opt.log_level, "trace|debug|info|warn|error")
      ->capture_default_str();
  app.add_option("--threads", opt.threads, "I/O threads (default: number of cores)");
  app.add_flag("!--no-fsync-full", opt.synchronous_full,
               "synchronous=NORMAL (survives a process crash, not power loss)");
  app.add_option("--provisioner", opt.provisioner,
                 "default for pools: local (agents on this machine) or static (agents join)")
      ->check(CLI::IsMember({"local", "static"}))
      ->capture_default_str();
  app.add_option("--agent-binary", opt.agent_binary,
                 "openbatch-agent for the local provisioner (default: next to this program)");
  app.add_option("--agent-arg", opt.agent_args, "extra argument for every local agent (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--heartbeat-seconds", opt.heartbeat_seconds, "agent heartbeat interval")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--max-package-bytes", opt.max_package_bytes,
                 "largest application package accepted (bytes)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--keep-agents", opt.keep_agents,
               "leave local agents running on shutdown (a restart adopts them)");
  app.add_option(
         "--max-connections", opt.max_connections,
         "open connections at most, agent links included (default 0: the fd limit less a reserve)")
      ->capture_default_str();
  app.add_option("--idle-timeout-seconds", opt.idle_timeout_seconds,
                 "close a keep-alive connection idle this long")
      ->check(CLI::Range(0.05, 86400.0))
      ->capture_default_str();
  app.add_option(
         "--header-timeout-seconds", opt.header_timeout_seconds,
         "a new connection's first request, and every request header, must arrive within this")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  app.add_option("--body-timeout-seconds", opt.body_timeout_seconds,
                 "a request body must arrive within this (else 408)")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  spdlog::set_level(spdlog::level::from_str(opt.log_level));
  // Everything created from here on is ours alone: database, WAL, SHM, blobs, keys. Local
  // agents get the umask we were started with back (local_agents.hpp).
  const mode_t started_umask = ::umask(077);
  startup::KeySources key_sources;
  key_sources.key_in_argv = key_in_argv(argc, argv);
  key_sources.key_in_config = !opt.key.empty() && !key_sources.key_in_argv;
  key_sources.key_file = opt.key_file;
  if (const char* env = std::getenv(startup::kAccountKeyEnv)) key_sources.env = env;
  // Agents (and through them tasks) never inherit it.
  ::unsetenv(startup::kAccountKeyEnv);
  key_sources.data_dir = opt.data_dir;
  if (key_sources.key_in_argv || key_sources.key_in_config) {
    std::cerr << "openbatch-scheduler: " << startup::key_option_refusal(key_sources.key_in_argv)
              << std::endl;
    return 2;
  }
  if (auto prepared = startup::prepare_data_dir(opt.data_dir); !prepared) {
    spdlog::critical("{}", prepared.error().message);
    return 2;
  }
  const fs::path nodes_dir =
      opt.nodes_dir.empty() ? startup::default_nodes_dir(opt.data_dir) : fs::path(opt.nodes_dir);
  if (auto prepared = startup::prepare_nodes_dir(nodes_dir, opt.data_dir); !prepared) {
    spdlog::critical("{}", prepared.error().message);
    return 2;
  }
  auto endpoint = parse_listen(opt.listen);
  if (!endpoint) {
    spdlog::critical("{}", endpoint.error().message);
    return 2;
  }
  auto key = startup::load_account_key(key_sources);
  if (!key) {
    spdlog::critical("{}", key.error().message);
    return 2;
  }
  if (key->generated) {
    std::cout << "generated account key (kept in "
              << (fs::path(opt.data_dir) / startup::kAccountKeyFile).string() << ")" << std::endl;
  }
  spdlog::info("account key from {}", key->origin);
  auto catalog = catalog::Catalog::load(opt.images_dir);
  if (!catalog) {
    spdlog::critical("catalog {}: {}", opt.images_dir, catalog.error().message);
    return 2;
  }
  // Watches the data directory's free space; refuses growth writes when low (disk_guard.hpp).
  store::DiskGuard disk_guard(opt.data_dir, std::chrono::milliseconds(250));
  auto store = store::SqliteStore::open(
      {(fs::path(opt.data_dir) / "openbatch.db").string(), opt.synchronous_full},
      {.on_disk_full = [&disk_guard] { disk_guard.disk_full(); },
       .disk_low = disk_guard.low_flag()});
  if (!store) {
    spdlog::critical("store: {}", store.error().message);
    return 2;
  }

  asio::io_context ioc;
  SystemClock clock;
  api::AccountConfig account{opt.account, key->decoded, opt.public_url, true};
  api::Services services(**store, *catalog, clock, account, opt.data_dir);
  services.max_package_bytes = opt.max_package_bytes;
  api::Router router(services, &disk_guard);
  server::ServerLimits server_limits;
  server_limits.max_connections = opt.max_connections;
  server_limits.idle_timeout = seconds_option(opt.idle_timeout_seconds);
  server_limits.header_timeout = seconds_option(opt.header_timeout_seconds);
  server_limits.body_timeout = seconds_option(opt.body_timeout_seconds);
  server::HttpServer http_server(
      ioc, [&router](api::HttpRequest req) { return router.handle(std::move(req)); },
      server_limits);
  std::unique_ptr<nodes::Engine> engine;
  std::unique_ptr<server::AgentEndpoint> agent_endpoint;
  asio::ip::tcp::endpoint bound;
  try {
    bound = http_server.listen(*endpoint);
  } catch (const std::exception& e) {
    spdlog::critical("cannot listen on {}: {}", opt.listen, e.what());
    return 2;
  }
  const std::string url = "http://" +
                          (bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                   : bound.address().to_string()) +
                          ":" + std::to_string(bound.port());
  if (services.account.public_url.empty()) services.account.public_url = url;

  nodes::LocalAgentsConfig agents_config;
  agents_config.agent_binary = opt.agent_binary.empty() ? default_agent_binary() : opt.agent_binary;
  agents_config.data_dir = fs::absolute(opt.data_dir);
  agents_config.nodes_dir = fs::absolute(nodes_dir).lexically_normal();
  agents_config.agent_umask = started_umask;
  agents_config.scheduler_url = url;
  agents_config.extra_args = opt.agent_args;
  nodes::EngineConfig engine_config;
  engine_config.account_name = opt.account;
  engine_config.account_url = services.account.public_url;
  engine_config.default_provisioner = opt.provisioner;
  engine_config.heartbeat_interval_seconds = opt.heartbeat_seconds;
  engine = std::make_unique<nodes::Engine>(
      ioc, **store, clock, engine_config, [&services] { return services.etags.next(); },
      std::make_unique<nodes::LocalAgents>(agents_config));
  agent_endpoint = std::make_unique<server::AgentEndpoint>(*engine);
  // Node files: local roots directly, the others through their agents (needs the engine).
  services.node_files = std::make_unique<server::RoutedNodeFiles>(agents_config.nodes_dir, *engine);
  http_server.route_prefix(
      "/agent/v1",
      [&agent_endpoint](api::HttpRequest req, std::string peer) {
        return agent_endpoint->handle(std::move(req), std::move(peer));
      },
      [&agent_endpoint](boost::beast::tcp_stream stream, api::HttpRequest req) {
        return agent_endpoint->upgrade(std::move(stream), std::move(req));
      });
  // Package uploads stream their body to disk; agents download packages as file bodies.
  http_server.route_stream(server::router_streams(), server::router_stream_handler(router));
  agent_endpoint->serve_packages([&services](std::string_view digest) -> std::optional<fs::path> {
    auto reader = services.store.reader();
    if (!packages::digest_referenced(*reader, digest)) return std::nullopt;
    return packages::blob_path(services.data_dir, digest);
  });
  http_server.route_stream(
      [](const server::HeaderParser::value_type& h) {
        return server::AgentEndpoint::serves_package(
            std::string_view(h.target().data(), h.target().size()));
      },
      [&agent_endpoint](boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
                        server::HeaderParser& parser) {
        return agent_endpoint->download_package(stream, buffer, parser);
      });
  engine->start();
  http_server.start();

  std::atomic<bool> stopping{false};
  lifecycle::Sweeper sweeper(**store, clock, [&services] { return services.etags.next(); });
  asio::co_spawn(ioc, sweeper.run(std::chrono::milliseconds(250), [&] { return stopping.load(); }),
                 asio::detached);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer drain_timer(ioc);
  signals.async_wait([&](const boost::system::error_code& sig_ec, int sig) {
    if (sig_ec) return;
    spdlog::info("signal {}: shutting down", sig);
    stopping = true;
    engine->quiesce();
    http_server.stop();
    // Wait (bounded) for in-flight requests to be answered, then stop the loop.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::function<void()> poll = [&, deadline] {
      if (http_server.requests_in_flight() == 0 || std::chrono::steady_clock::now() > deadline) {
        ioc.stop();
        return;
      }
      drain_timer.expires_after(std::chrono::milliseconds(20));
      drain_timer.async_wait([&](const boost::system::error_code&) { poll(); });
    };
    poll();
  });

  std::cout << "openbatch-scheduler listening on " << url << std::endl;
  (void)write_ready_file(opt.ready_file, url);  // logged when it fails; the server still serves
  spdlog::info("listening on {} (data {}, account {})", url, opt.data_dir, opt.account);

  const unsigned n = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < n; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  engine->stop(!opt.keep_agents);
  (*store)->close();
  spdlog::info("stopped");
  return 0;
}
