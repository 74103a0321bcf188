// One table per enum: the wire spelling of each value, used both ways.
#include "scheduler/domain/states.hpp"

#include <array>
#include <utility>

namespace openbatch::domain {
namespace {

template <class E, std::size_t N>
using Spellings = std::array<std::pair<E, std::string_view>, N>;

constexpr Spellings<TaskState, 4> kTaskStates{{
    {TaskState::Active, "active"},
    {TaskState::Preparing, "preparing"},
    {TaskState::Running, "running"},
    {TaskState::Completed, "completed"},
}};

constexpr Spellings<NodeState, 16> kNodeStates{{
    {NodeState::Idle, "idle"},
    {NodeState::Rebooting, "rebooting"},
    {NodeState::Reimaging, "reimaging"},
    {NodeState::Running, "running"},
    {NodeState::Unusable, "unusable"},
    {NodeState::Creating, "creating"},
    {NodeState::Starting, "starting"},
    {NodeState::WaitingForStartTask, "waitingforstarttask"},
    {NodeState::StartTaskFailed, "starttaskfailed"},
    {NodeState::Unknown, "unknown"},
    {NodeState::LeavingPool, "leavingpool"},
    {NodeState::Offline, "offline"},
    {NodeState::Preempted, "preempted"},
    {NodeState::UpgradingOs, "upgradingos"},
    {NodeState::Deallocated, "deallocated"},
    {NodeState::Deallocating, "deallocating"},
}};

constexpr Spellings<JobState, 7> kJobStates{{
    {JobState::Active, "active"},
    {JobState::Disabling, "disabling"},
    {JobState::Disabled, "disabled"},
    {JobState::Enabling, "enabling"},
    {JobState::Terminating, "terminating"},
    {JobState::Completed, "completed"},
    {JobState::Deleting, "deleting"},
}};

constexpr Spellings<PoolState, 2> kPoolStates{{
    {PoolState::Active, "active"},
    {PoolState::Deleting, "deleting"},
}};

constexpr Spellings<AllocationState, 3> kAllocationStates{{
    {AllocationState::Steady, "steady"},
    {AllocationState::Resizing, "resizing"},
    {AllocationState::Stopping, "stopping"},
}};

template <class E, std::size_t N>
std::string_view spelling(const Spellings<E, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return {};  // unreachable: every enumerator is in its table
}

template <class E, std::size_t N>
std::optional<E> parse(const Spellings<E, N>& table, std::string_view text) {
  for (const auto& [v, name] : table) {
    if (name == text) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(TaskState state) { return spelling(kTaskStates, state); }
std::string_view to_string(NodeState state) { return spelling(kNodeStates, state); }
std::string_view to_string(JobState state) { return spelling(kJobStates, state); }
std::string_view to_string(PoolState state) { return spelling(kPoolStates, state); }
std::string_view to_string(AllocationState state) { return spelling(kAllocationStates, state); }

std::optional<TaskState> parse_task_state(std::string_view text) {
  return parse(kTaskStates, text);
}
std::optional<NodeState> parse_node_state(std::string_view text) {
  return parse(kNodeStates, text);
}
std::optional<JobState> parse_job_state(std::string_view text) { return parse(kJobStates, text); }
std::optional<PoolState> parse_pool_state(std::string_view text) {
  return parse(kPoolStates, text);
}
std::optional<AllocationState> parse_allocation_state(std::string_view text) {
  return parse(kAllocationStates, text);
}

}  // namespace openbatch::domain
