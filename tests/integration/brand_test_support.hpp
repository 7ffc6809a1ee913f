// Helpers of the branding tests: reading a file's EI_OSABI byte.
#pragma once

#include "image_store_test_support.hpp"

#include <filesystem>
#include <string>

namespace brand_test {

/// Byte 7 of @p file (EI_OSABI for an ELF file), or -1 for a file shorter than that.
inline int osabi(const std::filesystem::path& file) {
  const std::string bytes = store_test::slurp(file);
  return bytes.size() > 7 ? static_cast<unsigned char>(bytes[7]) : -1;
}

}  // namespace brand_test
