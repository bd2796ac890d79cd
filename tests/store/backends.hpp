// The backends the store conformance tests run against, each named by the storage URL a test
// opens: a fresh SQLite file per test, or a study of its own on the throwaway PostgreSQL server.
#pragma once

#include <string>
#include <vector>

namespace graybox::testing {

std::vector<std::string> store_backends();  // "sqlite", "postgresql"
// A URL of `backend` that no other test uses (`name` names the test).
std::string fresh_storage_url(const std::string& backend, const std::string& name);

}  // namespace graybox::testing
