#include "linuxulator/brand_record.hpp"

#include "image_store/posix_io.hpp"

#include <knast/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <set>
#include <sstream>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

constexpr const char* header_key = "knast_brand_record";
// A record lists at most every ELF file of a tree; this bounds what undo reads.
constexpr std::size_t max_record_bytes = std::size_t{256} << 20;

}  // namespace

void BrandRecordWriter::append(const std::vector<BrandRecordEntry>& entries) {
  if (entries.empty()) return;
  std::string lines;
  // The line nlohmann would write for {"path", "original"}, without building an object
  // per file: only the path needs JSON's escaping.
  for (const auto& e : entries)
    fmt::format_to(std::back_inserter(lines), "{{\"path\":{},\"original\":{}}}\n", nlohmann::json(e.path).dump(),
                   e.original);
  std::lock_guard lock(mutex_);
  if (!fd_) {
    fd_ = open_file(path_, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0644);
    struct stat st{};
    if (::fstat(fd_.get(), &st) != 0) throw Error(errno, "stat brand record " + path_.string() + ": " + std::strerror(errno));
    if (st.st_size == 0) lines = nlohmann::json{{header_key, 1}}.dump() + '\n' + lines;
  }
  write_all(fd_, lines.data(), lines.size(), path_);
}

void BrandRecordWriter::sync() {
  std::lock_guard lock(mutex_);
  if (fd_) sync_file(fd_, path_);
}

std::vector<BrandRecordEntry> read_brand_record(const std::filesystem::path& path) {
  UniqueFd fd = open_if_exists(path, O_RDONLY | O_NOFOLLOW);
  if (!fd)
    throw Error(ErrorCode::not_found, "no brand record at " + path.string() +
                                          ": nothing was branded there, or the record was moved (pass its path)");
  std::string text = read_all(fd, max_record_bytes, path);
  // A run killed in the middle of an append can leave a torn last line (no newline yet).
  // The bytes it names were never written — entries go out before their bytes — so it
  // is dropped.
  if (!text.empty() && text.back() != '\n') text.erase(text.rfind('\n') + 1);
  std::istringstream lines(text);
  std::vector<BrandRecordEntry> entries;
  std::set<std::string> seen;
  std::string line;
  std::size_t number = 0;
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::invalid_argument,
                 "brand record " + path.string() + " line " + std::to_string(number) + ": " + why);
  };
  while (std::getline(lines, line)) {
    ++number;
    if (line.empty()) continue;
    const nlohmann::json doc = nlohmann::json::parse(line, nullptr, false);
    if (!doc.is_object()) throw bad("not a JSON object");
    if (number == 1) {
      if (doc.value(header_key, 0) != 1) throw bad("not a knast brand record (no {\"knast_brand_record\": 1})");
      continue;
    }
    const auto path_it = doc.find("path");
    const auto original_it = doc.find("original");
    if (path_it == doc.end() || !path_it->is_string() || original_it == doc.end() ||
        !original_it->is_number_unsigned() || original_it->get<unsigned>() > 255)
      throw bad("expected {\"path\": string, \"original\": 0-255}");
    std::string file = path_it->get<std::string>();
    if (seen.insert(file).second) entries.push_back({std::move(file), static_cast<std::uint8_t>(original_it->get<unsigned>())});
  }
  if (number == 0) throw Error(ErrorCode::invalid_argument, "brand record " + path.string() + " is empty");
  return entries;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
