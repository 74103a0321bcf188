// inventory_changed: whether two scans describe different hardware. Both sides are brought to
// a canonical form (volatile fields cleared, lists sorted) and compared whole, so that a field
// added to Inventory later is compared by default rather than forgotten.
#include "node_agent/discovery/inventory.hpp"

#include <algorithm>
#include <tuple>

namespace openbatch::agent::discovery {
namespace {

Inventory canonical(Inventory v) {
  v.warnings.clear();
  v.gpu_source.clear();
  std::ranges::sort(v.addresses, {}, [](const Address& a) {
    return std::tie(a.interface_name, a.family, a.address);
  });
  std::ranges::sort(v.gpus, {}, [](const Gpu& g) { return std::tie(g.index, g.uuid); });
  std::ranges::sort(v.infiniband_ports, {},
                    [](const InfinibandPort& p) { return std::tie(p.device, p.port); });
  std::ranges::sort(v.ucx_transports, {},
                    [](const UcxTransport& t) { return std::tie(t.name, t.device, t.type); });
  return v;
}

}  // namespace

bool inventory_changed(const Inventory& a, const Inventory& b) {
  return canonical(a) != canonical(b);
}

}  // namespace openbatch::agent::discovery
