#include "rootfs/container_records.hpp"

#include "image_store/posix_io.hpp"
#include "rootfs/tree_walk.hpp"

#include <knast/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

using Json = nlohmann::json;
constexpr std::size_t max_record_bytes = 1 << 20;

bool id_char(char c, bool first) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && (c == '_' || c == '.' || c == '-'));
}

}  // namespace

void check_container_id(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 128;
  for (std::size_t i = 0; ok && i < id.size(); ++i) ok = id_char(id[i], i == 0);
  if (!ok)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("container id \"{}\": use 1 to 128 letters, digits, '_', '.' or '-', starting with a "
                            "letter or digit",
                            id.substr(0, 200)));
}

bool create_container_record(const ContainerRecord& record) {
  const Json j{{"id", record.id},
               {"driver", std::string(to_string(record.driver))},
               {"chain_id", record.chain_id.string()},
               {"path", record.path.string()},
               {"path_existed", record.path_existed},
               {"zfs_dataset", record.zfs_dataset}};
  return create_file_once(record.dir / "rootfs.json", record.dir / (".rootfs.json.tmp-" + unique_name()), j.dump(2));
}

std::optional<ContainerRecord> read_container_record(const RootfsPaths& paths, std::string_view id) {
  const auto dir = paths.container_dir(id);
  const UniqueFd fd = open_if_exists(dir / "rootfs.json", O_RDONLY);
  if (!fd) return std::nullopt;
  try {
    const Json j = Json::parse(read_all(fd, max_record_bytes, dir / "rootfs.json"));
    ContainerRecord record;
    record.id = j.at("id").get<std::string>();
    if (record.id != id) return std::nullopt;
    record.driver = parse_snapshot_driver(j.at("driver").get<std::string>());
    record.chain_id = Digest::parse(j.at("chain_id").get<std::string>());
    record.dir = dir;
    record.path = j.at("path").get<std::string>();
    record.path_existed = j.value("path_existed", false);
    record.zfs_dataset = j.value("zfs_dataset", std::string());
    return record;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<ContainerRecord> read_container_records(const RootfsPaths& paths) {
  std::vector<ContainerRecord> out;
  if (!lstat_if_exists(paths.containers)) return out;
  for (const std::string& name : list_names_sorted(paths.containers))
    if (auto record = read_container_record(paths, name)) out.push_back(std::move(*record));
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
