// Helpers for the domain validator tests: the shipped images/ catalog and assertions on the
// Azure-shaped errors the validators return.
#pragma once

#include "common/error.hpp"
#include "scheduler/catalog/catalog.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace openbatch::domain::testing {

using nlohmann::json;

inline const catalog::Catalog& shipped_catalog() {
  static const catalog::Catalog c = [] {
    auto loaded = catalog::Catalog::load(std::filesystem::path(OPENBATCH_SOURCE_DIR) / "images");
    if (!loaded) throw std::runtime_error(loaded.error().message);
    return *loaded;
  }();
  return c;
}

// The Error of a failed Result; a test failure (and an empty Error) when it succeeded.
template <class T>
Error error_of(const Result<T>& r) {
  EXPECT_FALSE(r.has_value()) << "expected the request to be refused";
  return r.has_value() ? Error() : r.error();
}

inline ::testing::AssertionResult is_missing(const Error& e, std::string_view property) {
  if (e.status == 400 && e.code == "MissingRequiredProperty" &&
      e.detail("PropertyName") == property) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << e.status << " " << e.code << " PropertyName=" << e.detail("PropertyName") << " ("
         << e.message << ")";
}

inline ::testing::AssertionResult is_invalid(const Error& e, std::string_view property) {
  if (e.status == 400 && e.code == "InvalidPropertyValue" && e.detail("PropertyName") == property) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << e.status << " " << e.code << " PropertyName=" << e.detail("PropertyName")
         << " Reason=" << e.detail("Reason");
}

}  // namespace openbatch::domain::testing
