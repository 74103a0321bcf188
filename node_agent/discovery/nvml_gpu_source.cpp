// NvmlGpuSource: dlopen("libnvidia-ml.so.1") and the few NVML calls discovery needs.
//
// No NVIDIA headers are installed where OpenBatch builds, so the types, constants and
// signatures below are declared here from NVIDIA's NVML API reference (nvml.h): only what the
// calls used need. They are ABI: the sizes and layouts must match the driver's library.
//
// Calls resolved (required unless marked optional):
//   nvmlInit_v2, nvmlShutdown, nvmlSystemGetDriverVersion,
//   nvmlSystemGetCudaDriverVersion_v2 | nvmlSystemGetCudaDriverVersion (optional),
//   nvmlDeviceGetCount_v2, nvmlDeviceGetHandleByIndex_v2, nvmlDeviceGetName,
//   nvmlDeviceGetUUID, nvmlDeviceGetMemoryInfo,
//   nvmlDeviceGetPciInfo_v3 | nvmlDeviceGetPciInfo_v2 (optional), nvmlDeviceGetMigMode (optional).
#include "node_agent/discovery/nvml_gpu_source.hpp"

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <string>
#include <utility>
#include <vector>

namespace openbatch::agent::discovery {
namespace {

// --- NVML ABI (from nvml.h) -------------------------------------------------------------
using NvmlReturn = int;  // nvmlReturn_t, a C enum
constexpr NvmlReturn kNvmlSuccess = 0;
struct NvmlDeviceSt;                               // opaque
using NvmlDevice = NvmlDeviceSt*;                  // nvmlDevice_t
constexpr unsigned kNvmlDriverVersionBuffer = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE
constexpr unsigned kNvmlNameBuffer = 96;           // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kNvmlUuidBuffer = 96;           // NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr unsigned kNvmlMigEnable = 1;             // NVML_DEVICE_MIG_ENABLE

struct NvmlMemory {  // nvmlMemory_t (v1), bytes
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

struct NvmlPciInfo {       // nvmlPciInfo_t
  char bus_id_legacy[16];  // NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pci_device_id;
  unsigned int pci_sub_system_id;
  char bus_id[32];  // NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE
};
static_assert(sizeof(NvmlMemory) == 24);
static_assert(offsetof(NvmlPciInfo, domain) == 16 && offsetof(NvmlPciInfo, bus_id) == 36 &&
              sizeof(NvmlPciInfo) == 68);

using InitFn = NvmlReturn (*)();
using ShutdownFn = NvmlReturn (*)();
using DriverVersionFn = NvmlReturn (*)(char*, unsigned int);
using CudaVersionFn = NvmlReturn (*)(int*);
using CountFn = NvmlReturn (*)(unsigned int*);
using HandleFn = NvmlReturn (*)(unsigned int, NvmlDevice*);
using StringFn = NvmlReturn (*)(NvmlDevice, char*, unsigned int);
using MemoryFn = NvmlReturn (*)(NvmlDevice, NvmlMemory*);
using PciFn = NvmlReturn (*)(NvmlDevice, NvmlPciInfo*);
using MigModeFn = NvmlReturn (*)(NvmlDevice, unsigned int*, unsigned int*);
// -----------------------------------------------------------------------------------------

// nvmlReturn_t values as NVML names them, for messages.
std::string nvml_error(NvmlReturn r) {
  static constexpr std::array<const char*, 19> kNames = {"NVML_SUCCESS",
                                                         "NVML_ERROR_UNINITIALIZED",
                                                         "NVML_ERROR_INVALID_ARGUMENT",
                                                         "NVML_ERROR_NOT_SUPPORTED",
                                                         "NVML_ERROR_NO_PERMISSION",
                                                         "NVML_ERROR_ALREADY_INITIALIZED",
                                                         "NVML_ERROR_NOT_FOUND",
                                                         "NVML_ERROR_INSUFFICIENT_SIZE",
                                                         "NVML_ERROR_INSUFFICIENT_POWER",
                                                         "NVML_ERROR_DRIVER_NOT_LOADED",
                                                         "NVML_ERROR_TIMEOUT",
                                                         "NVML_ERROR_IRQ_ISSUE",
                                                         "NVML_ERROR_LIBRARY_NOT_FOUND",
                                                         "NVML_ERROR_FUNCTION_NOT_FOUND",
                                                         "NVML_ERROR_CORRUPTED_INFOROM",
                                                         "NVML_ERROR_GPU_IS_LOST",
                                                         "NVML_ERROR_RESET_REQUIRED",
                                                         "NVML_ERROR_OPERATING_SYSTEM",
                                                         "NVML_ERROR_LIB_RM_VERSION_MISMATCH"};
  std::string name = r >= 0 && static_cast<std::size_t>(r) < kNames.size()
                         ? kNames[static_cast<std::size_t>(r)]
                         : (r == 999 ? "NVML_ERROR_UNKNOWN" : "NVML error");
  return name + " (" + std::to_string(r) + ")";
}

// The dlopen handle, closed on destruction.
class Library {
 public:
  explicit Library(void* handle) : handle_(handle) {}
  ~Library() {
    if (handle_ != nullptr) ::dlclose(handle_);
  }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  template <class Fn>
  Fn symbol(const char* name) const {
    // POSIX guarantees that a data pointer from dlsym converts to a function pointer.
    return reinterpret_cast<Fn>(::dlsym(handle_, name));
  }

 private:
  void* handle_;
};

// Calls nvmlShutdown on destruction, balancing a successful nvmlInit_v2.
class Session {
 public:
  explicit Session(ShutdownFn shutdown) : shutdown_(shutdown) {}
  ~Session() { shutdown_(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

 private:
  ShutdownFn shutdown_;
};

// A C string from a fixed NVML buffer, which NVML NUL-terminates (forced here regardless).
template <std::size_t N>
std::string from_buffer(std::array<char, N>& buf) {
  buf.back() = '\0';
  return std::string(buf.data());
}

std::string pci_bus_id(const NvmlPciInfo& pci) {
  std::array<char, sizeof pci.bus_id> id{};
  std::memcpy(id.data(), pci.bus_id, id.size());
  std::string text = from_buffer(id);
  if (!text.empty()) return text;
  // _v2 may leave busId empty: format domain:bus:device.0 as nvidia-smi prints it.
  std::array<char, 32> formatted{};
  std::snprintf(formatted.data(), formatted.size(), "%08X:%02X:%02X.0", pci.domain, pci.bus,
                pci.device);
  return formatted.data();
}

struct Calls {
  InitFn init = nullptr;
  ShutdownFn shutdown = nullptr;
  DriverVersionFn driver_version = nullptr;
  CudaVersionFn cuda_version = nullptr;  // optional
  CountFn count = nullptr;
  HandleFn handle = nullptr;
  StringFn name = nullptr;
  StringFn uuid = nullptr;
  MemoryFn memory = nullptr;
  PciFn pci = nullptr;           // optional
  MigModeFn mig_mode = nullptr;  // optional
};

Result<Calls> resolve(const Library& lib, const std::string& library) {
  Calls c;
  c.init = lib.symbol<InitFn>("nvmlInit_v2");
  c.shutdown = lib.symbol<ShutdownFn>("nvmlShutdown");
  c.driver_version = lib.symbol<DriverVersionFn>("nvmlSystemGetDriverVersion");
  c.count = lib.symbol<CountFn>("nvmlDeviceGetCount_v2");
  c.handle = lib.symbol<HandleFn>("nvmlDeviceGetHandleByIndex_v2");
  c.name = lib.symbol<StringFn>("nvmlDeviceGetName");
  c.uuid = lib.symbol<StringFn>("nvmlDeviceGetUUID");
  c.memory = lib.symbol<MemoryFn>("nvmlDeviceGetMemoryInfo");
  const std::pair<const char*, bool> required[] = {
      {"nvmlInit_v2", c.init != nullptr},
      {"nvmlShutdown", c.shutdown != nullptr},
      {"nvmlSystemGetDriverVersion", c.driver_version != nullptr},
      {"nvmlDeviceGetCount_v2", c.count != nullptr},
      {"nvmlDeviceGetHandleByIndex_v2", c.handle != nullptr},
      {"nvmlDeviceGetName", c.name != nullptr},
      {"nvmlDeviceGetUUID", c.uuid != nullptr},
      {"nvmlDeviceGetMemoryInfo", c.memory != nullptr}};
  for (const auto& [symbol, found] : required) {
    if (!found) {
      return discovery_error("NvmlFailed",
                             library + " has no " + symbol + " (driver too old for OpenBatch?)");
    }
  }
  c.cuda_version = lib.symbol<CudaVersionFn>("nvmlSystemGetCudaDriverVersion_v2");
  if (c.cuda_version == nullptr) {
    c.cuda_version = lib.symbol<CudaVersionFn>("nvmlSystemGetCudaDriverVersion");
  }
  c.pci = lib.symbol<PciFn>("nvmlDeviceGetPciInfo_v3");
  if (c.pci == nullptr) c.pci = lib.symbol<PciFn>("nvmlDeviceGetPciInfo_v2");
  c.mig_mode = lib.symbol<MigModeFn>("nvmlDeviceGetMigMode");
  return c;
}

// Reads device `index` into `out`; false (with a warning) when it must be left out.
bool read_device(const Calls& c, unsigned int index, Gpu& out, std::vector<std::string>& warnings) {
  const std::string which = "GPU " + std::to_string(index);
  NvmlDevice device = nullptr;
  if (NvmlReturn r = c.handle(index, &device); r != kNvmlSuccess) {
    warnings.push_back(which + " left out: nvmlDeviceGetHandleByIndex_v2: " + nvml_error(r));
    return false;
  }
  out.index = static_cast<int>(index);
  std::array<char, kNvmlUuidBuffer> uuid{};
  if (NvmlReturn r = c.uuid(device, uuid.data(), uuid.size()); r != kNvmlSuccess) {
    warnings.push_back(which + " left out: nvmlDeviceGetUUID: " + nvml_error(r));
    return false;
  }
  out.uuid = from_buffer(uuid);
  std::array<char, kNvmlNameBuffer> name{};
  if (NvmlReturn r = c.name(device, name.data(), name.size()); r == kNvmlSuccess) {
    out.name = from_buffer(name);
  } else {
    warnings.push_back(which + ": nvmlDeviceGetName: " + nvml_error(r));
  }
  NvmlMemory memory{};
  if (NvmlReturn r = c.memory(device, &memory); r == kNvmlSuccess) {
    out.memory_mib = memory.total >> 20;
  } else {
    warnings.push_back(which + ": nvmlDeviceGetMemoryInfo: " + nvml_error(r));
  }
  if (c.pci != nullptr) {
    NvmlPciInfo pci{};
    if (NvmlReturn r = c.pci(device, &pci); r == kNvmlSuccess) {
      out.pci_bus_id = pci_bus_id(pci);
    } else {
      warnings.push_back(which + ": nvmlDeviceGetPciInfo: " + nvml_error(r));
    }
  }
  if (c.mig_mode != nullptr) {
    unsigned int current = 0;
    unsigned int pending = 0;
    // NOT_SUPPORTED on GPUs without MIG: leave migEnabled absent.
    if (c.mig_mode(device, &current, &pending) == kNvmlSuccess) {
      out.mig_enabled = current == kNvmlMigEnable;
    }
  }
  return true;
}

}  // namespace

std::string cuda_version_text(int version) {
  if (version <= 0) return {};
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

Result<std::optional<GpuReport>> NvmlGpuSource::query() {
  void* handle = ::dlopen(library_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();  // NOLINT(concurrency-mt-unsafe): glibc keeps it per thread
    std::string reason = why == nullptr ? "unknown dlopen error" : why;
    // Not installed: the ordinary case on a node without NVIDIA software.
    // (glibc names the library it could not find first; a missing dependency of an installed
    // libnvidia-ml names the dependency instead, and is an error.)
    if (reason.starts_with(library_ + ": ") &&
        reason.find("No such file or directory") != std::string::npos) {
      return std::nullopt;
    }
    return discovery_error("NvmlFailed", "cannot load " + library_ + ": " + reason);
  }
  Library lib(handle);
  auto calls = resolve(lib, library_);
  if (!calls) return calls.error();
  const Calls& c = *calls;

  if (NvmlReturn r = c.init(); r != kNvmlSuccess) {
    return discovery_error("NvmlFailed", "nvmlInit_v2: " + nvml_error(r));
  }
  Session session(c.shutdown);

  GpuReport report;
  std::array<char, kNvmlDriverVersionBuffer> driver{};
  if (NvmlReturn r = c.driver_version(driver.data(), driver.size()); r != kNvmlSuccess) {
    return discovery_error("NvmlFailed", "nvmlSystemGetDriverVersion: " + nvml_error(r));
  }
  report.driver_version = from_buffer(driver);
  if (c.cuda_version != nullptr) {
    int cuda = 0;
    if (NvmlReturn r = c.cuda_version(&cuda); r == kNvmlSuccess) {
      report.cuda_driver_version = cuda_version_text(cuda);
    } else {
      report.warnings.push_back("nvmlSystemGetCudaDriverVersion: " + nvml_error(r));
    }
  }
  unsigned int count = 0;
  if (NvmlReturn r = c.count(&count); r != kNvmlSuccess) {
    return discovery_error("NvmlFailed", "nvmlDeviceGetCount_v2: " + nvml_error(r));
  }
  for (unsigned int i = 0; i < count; ++i) {
    Gpu gpu;
    if (read_device(c, i, gpu, report.warnings)) report.gpus.push_back(std::move(gpu));
  }
  return std::optional<GpuReport>(std::move(report));
}

}  // namespace openbatch::agent::discovery
