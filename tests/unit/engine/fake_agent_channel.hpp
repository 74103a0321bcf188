// FakeAgentChannel: an in-memory AgentChannel for engine tests. It records every frame the
// engine sends (decoded with the agent protocol's own codec, so a frame the engine could not
// encode correctly fails the test), and whether and how the engine closed or dropped it.
// Thread-safe: the engine sends from its strand, the test reads from its own thread.
#pragma once

#include "common/protocol/agent_protocol.hpp"
#include "scheduler/nodes/agent_channel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace openbatch::testing {

class FakeAgentChannel final : public nodes::AgentChannel {
 public:
  explicit FakeAgentChannel(std::string node_id) : node_id_(std::move(node_id)), id_(next_id()) {}

  void send(std::string text) override {
    auto message = protocol::decode(text);
    std::lock_guard lock(mutex_);
    if (!message) {
      ADD_FAILURE() << "the engine sent a frame the protocol cannot decode: " << text;
      return;
    }
    frames_.push_back(std::move(*message));
  }
  void close(std::uint16_t code, std::string reason) override {
    std::lock_guard lock(mutex_);
    if (!close_code_) {
      close_code_ = code;
      close_reason_ = std::move(reason);
    }
  }
  void drop() override { dropped_ = true; }
  const std::string& node_id() const override { return node_id_; }
  std::uint64_t id() const override { return id_; }

  std::vector<protocol::Message> frames() const {
    std::lock_guard lock(mutex_);
    return frames_;
  }
  // The payloads of type T, in the order they were sent.
  template <class T>
  std::vector<T> sent() const {
    std::vector<T> out;
    std::lock_guard lock(mutex_);
    for (const auto& m : frames_) {
      if (auto* p = std::get_if<T>(&m.payload)) out.push_back(*p);
    }
    return out;
  }
  std::optional<std::uint16_t> close_code() const {
    std::lock_guard lock(mutex_);
    return close_code_;
  }
  std::string close_reason() const {
    std::lock_guard lock(mutex_);
    return close_reason_;
  }
  bool closed() const { return close_code().has_value(); }
  bool dropped() const { return dropped_; }

 private:
  static std::uint64_t next_id() {
    static std::atomic<std::uint64_t> next{1};
    return next++;
  }

  const std::string node_id_;
  const std::uint64_t id_;
  mutable std::mutex mutex_;
  std::vector<protocol::Message> frames_;
  std::optional<std::uint16_t> close_code_;
  std::string close_reason_;
  std::atomic<bool> dropped_{false};
};

}  // namespace openbatch::testing
