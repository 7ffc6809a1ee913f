// Golden files: the expected output of a pure function, kept under tests/testdata/.
// KNAST_UPDATE_GOLDEN=1 rewrites them from the current output (then review the diff).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace golden_test {

/// Expects @p actual to equal the file @p path, or writes it with KNAST_UPDATE_GOLDEN=1.
inline void expect_golden_file(const std::string& path, const std::string& actual) {
  if (const char* update = std::getenv("KNAST_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "wrote " << path;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << path << " (KNAST_UPDATE_GOLDEN=1 writes it)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "differs from " << path << " (KNAST_UPDATE_GOLDEN=1 rewrites it)";
}

}  // namespace golden_test
