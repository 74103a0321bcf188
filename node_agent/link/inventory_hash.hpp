// inventory_hash: hello's and inventory's "inventoryHash", the lowercase hex SHA-256 of the
// inventory's JSON dump (nlohmann's compact form, keys sorted). Pure.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace openbatch::agent::link {

std::string sha256_hex(std::string_view bytes);
std::string inventory_hash(const nlohmann::json& inventory);

}  // namespace openbatch::agent::link
