// UcxScanner: the UCX transports of this node, from `ucx_info -d`, so that the scheduler can
// tell MPI jobs which transport (rc_mlx5, ud_verbs, tcp, ...) to ask UCX for. The parser is a
// pure function tested on captured output.
// Thread-safety: see Scanner.
#pragma once

#include "node_agent/discovery/command.hpp"
#include "node_agent/discovery/scanner.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::agent::discovery {

// Every "Transport:" of `ucx_info -d` output with the "Device:" and "Type:" lines that follow
// it, in order, duplicates dropped. Memory domains, connection managers and capability lines
// are skipped; "Type:" is "" where the UCX version does not print it.
std::vector<UcxTransport> parse_ucx_info(std::string_view text);

class UcxScanner final : public Scanner {
 public:
  explicit UcxScanner(std::string program = "ucx_info",
                      std::chrono::milliseconds timeout = std::chrono::seconds(10),
                      std::string search_path = std::string(kSystemSearchPath))
      : program_(std::move(program)), timeout_(timeout), search_path_(std::move(search_path)) {}

  std::string_view name() const override { return "ucx"; }

  // Fills inventory.ucx_transports. ucx_info missing, timing out or failing is a warning and
  // leaves the list empty; never an Error.
  [[nodiscard]] Status scan(Inventory& inventory) override;

 private:
  std::string program_;
  std::chrono::milliseconds timeout_;
  std::string search_path_;
};

}  // namespace openbatch::agent::discovery
