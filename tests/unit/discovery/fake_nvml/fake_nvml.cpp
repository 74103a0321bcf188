// A stand-in for libnvidia-ml.so.1, so that NvmlGpuSource's dlopen path, symbol resolution
// and ABI use run where no GPU is: it exports the NVML calls discovery uses and reports two
// H100s. Built three times (tests/unit/discovery/CMakeLists.txt):
//   FAKE_NVML_CURRENT   -- a current driver: _v3 PCI info, CUDA _v2, MIG mode (GPU 0 on);
//   FAKE_NVML_OLD       -- an older one: only nvmlDeviceGetPciInfo_v2 (busId left empty),
//                          plain nvmlSystemGetCudaDriverVersion, no nvmlDeviceGetMigMode;
//   FAKE_NVML_NO_DRIVER -- the library is installed but nvmlInit_v2 answers
//                          NVML_ERROR_DRIVER_NOT_LOADED.
// Types are written from NVIDIA's nvml.h documentation, independently of the source under test.
// fake_nvml_init_calls / fake_nvml_open_sessions let a test check that init and shutdown pair.
#include <cstdio>
#include <cstring>

// NOLINTBEGIN(readability-identifier-naming): NVML's own names
extern "C" {

typedef int nvmlReturn_t;
struct nvmlDevice_st {
  const char* name;
  const char* uuid;
  unsigned long long memory_total;
  unsigned int bus;
  unsigned int mig_mode;
};
typedef nvmlDevice_st* nvmlDevice_t;
typedef struct {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_t;
typedef struct {
  char busIdLegacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

static const nvmlReturn_t NVML_SUCCESS = 0;
static const nvmlReturn_t NVML_ERROR_UNINITIALIZED = 1;
static const nvmlReturn_t NVML_ERROR_INVALID_ARGUMENT = 2;
static const nvmlReturn_t NVML_ERROR_INSUFFICIENT_SIZE = 7;
#if defined(FAKE_NVML_NO_DRIVER)
static const nvmlReturn_t NVML_ERROR_DRIVER_NOT_LOADED = 9;
#endif

static nvmlDevice_st g_devices[2] = {
    {"NVIDIA H100 80GB HBM3", "GPU-6513270e-269e-0d37-f2a7-4de452e6b438", 81559ull << 20, 0x18, 1},
    {"NVIDIA H100 80GB HBM3", "GPU-d23f0824-128b-2f33-0c5c-7fd0a6a3a450", 81559ull << 20, 0x2A, 0}};
static int g_init_calls = 0;
static int g_sessions = 0;

static nvmlReturn_t copy_string(const char* from, char* to, unsigned int length) {
  if (to == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (std::strlen(from) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  std::strcpy(to, from);
  return NVML_SUCCESS;
}

__attribute__((visibility("default"))) int fake_nvml_init_calls() { return g_init_calls; }
__attribute__((visibility("default"))) int fake_nvml_open_sessions() { return g_sessions; }

__attribute__((visibility("default"))) nvmlReturn_t nvmlInit_v2() {
  ++g_init_calls;
#if defined(FAKE_NVML_NO_DRIVER)
  return NVML_ERROR_DRIVER_NOT_LOADED;
#else
  ++g_sessions;
  return NVML_SUCCESS;
#endif
}

__attribute__((visibility("default"))) nvmlReturn_t nvmlShutdown() {
  if (g_sessions == 0) return NVML_ERROR_UNINITIALIZED;
  --g_sessions;
  return NVML_SUCCESS;
}

__attribute__((visibility("default"))) nvmlReturn_t nvmlSystemGetDriverVersion(
    char* version, unsigned int length) {
  if (g_sessions == 0) return NVML_ERROR_UNINITIALIZED;
  return copy_string("535.104.05", version, length);
}

#if defined(FAKE_NVML_OLD)
__attribute__((visibility("default"))) nvmlReturn_t nvmlSystemGetCudaDriverVersion(int* version) {
  *version = 11040;
  return NVML_SUCCESS;
}
#else
__attribute__((visibility("default"))) nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(
    int* version) {
  *version = 12020;
  return NVML_SUCCESS;
}
#endif

__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  if (g_sessions == 0) return NVML_ERROR_UNINITIALIZED;
  *count = 2;
  return NVML_SUCCESS;
}

__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(
    unsigned int index, nvmlDevice_t* device) {
  if (index >= 2) return NVML_ERROR_INVALID_ARGUMENT;
  *device = &g_devices[index];
  return NVML_SUCCESS;
}

__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device,
                                                                      char* name,
                                                                      unsigned int length) {
  return copy_string(device->name, name, length);
}

__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device,
                                                                      char* uuid,
                                                                      unsigned int length) {
  return copy_string(device->uuid, uuid, length);
}

__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device,
                                                                            nvmlMemory_t* memory) {
  memory->total = device->memory_total;
  memory->used = 4ull << 20;
  memory->free = memory->total - memory->used;
  return NVML_SUCCESS;
}

static void fill_pci(nvmlDevice_t device, nvmlPciInfo_t* pci, bool with_bus_id) {
  std::memset(pci, 0, sizeof *pci);
  pci->domain = 0;
  pci->bus = device->bus;
  pci->device = 0;
  pci->pciDeviceId = 0x233010DE;
  pci->pciSubSystemId = 0x16C110DE;
  std::snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "0000:%02X:00.0", device->bus);
  if (with_bus_id) {
    std::snprintf(pci->busId, sizeof pci->busId, "00000000:%02X:00.0", device->bus);
  }
}

#if defined(FAKE_NVML_OLD)
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t device,
                                                                            nvmlPciInfo_t* pci) {
  fill_pci(device, pci, false);
  return NVML_SUCCESS;
}
#else
__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device,
                                                                            nvmlPciInfo_t* pci) {
  fill_pci(device, pci, true);
  return NVML_SUCCESS;
}

__attribute__((visibility("default"))) nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device,
                                                                         unsigned int* current,
                                                                         unsigned int* pending) {
  *current = device->mig_mode;
  *pending = device->mig_mode;
  return NVML_SUCCESS;
}
#endif

}  // extern "C"
// NOLINTEND(readability-identifier-naming)
