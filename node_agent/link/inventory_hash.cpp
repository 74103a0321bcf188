// SHA-256 through OpenSSL's EVP interface (see inventory_hash.hpp).
#include "node_agent/link/inventory_hash.hpp"

#include "common/encoding.hpp"

#include <openssl/evp.h>

namespace openbatch::agent::link {

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return encoding::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string inventory_hash(const nlohmann::json& inventory) { return sha256_hex(inventory.dump()); }

}  // namespace openbatch::agent::link
