// Credential records (store::Table::Credentials): the SHA-256 digest of each pool's join token
// (parent "join", id = pool id) and of each node's token (parent "node", id = node id). Tokens
// themselves are never stored; see common/auth/bearer_token.hpp.
#pragma once

#include "scheduler/store/store.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace openbatch::store {

inline constexpr std::string_view kJoinCredential = "join";
inline constexpr std::string_view kNodeCredential = "node";

// A record for `token` (its digest) of kind join/node; `pool_id` is kept for node tokens.
Record credential_record(std::string_view kind, const std::string& id, std::string_view token,
                         const std::string& pool_id);

// Inserts or replaces the credential.
bool put_credential(Writer& w, const Record& record);

// True when `token` matches the stored credential of (kind, id).
bool credential_matches(Reader& r, std::string_view kind, const std::string& id,
                        std::string_view token);

}  // namespace openbatch::store
