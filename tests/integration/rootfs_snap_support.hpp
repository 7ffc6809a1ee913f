// Helpers for the chain cache, driver, diff and pipeline tests: images put into a store
// layer by layer, full descriptions of trees (directory mtimes to the nanosecond and
// extended attributes included), and inventories of files and mounts to show that a
// create/remove left nothing behind.
#pragma once

#include "rootfs_test_support.hpp"

#include "platform/xattr.hpp"

#include <knast/image_store.hpp>
#include <knast/oci.hpp>
#include <knast/rootfs.hpp>

#include <fstream>
#include <set>
#include <sstream>

namespace rootfs_snap {

using namespace rootfs_test;
namespace fs = std::filesystem;

/// A layer of a test image: its entries and compression.
struct TestLayer {
  std::vector<Entry> entries;
  Filter filter = Filter::gzip;
};

inline std::string_view media_type_of(Filter filter) {
  switch (filter) {
    case Filter::gzip: return knast::media_type::oci_layer_gzip;
    case Filter::zstd: return knast::media_type::oci_layer_zstd;
    default: return knast::media_type::oci_layer_tar;
  }
}

/// Uncompressed and stored bytes of a layer.
inline std::pair<std::string, std::string> layer_blobs(const TestLayer& layer) {
  return {layer_bytes(layer.entries, Filter::none), layer_bytes(layer.entries, layer.filter)};
}

/// Puts an image of @p layers into @p store, tagged @p name; @p diff_ids overrides the
/// config's diff_ids (to make a lying config). Returns the image as the store resolves it.
inline knast::ResolvedImage put_image(knast::ImageStore& store, const std::string& name, const std::vector<TestLayer>& layers,
                                      std::optional<std::vector<std::string>> diff_ids = std::nullopt) {
  knast::Manifest manifest;
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& layer : layers) {
    const auto [plain, stored] = layer_blobs(layer);
    manifest.layers.push_back(store.put_blob(stored, std::string(media_type_of(layer.filter))));
    ids.push_back(knast::Digest::of(plain).string());
  }
  if (diff_ids) ids = *diff_ids;
  const nlohmann::json config{{"architecture", "amd64"}, {"os", "linux"}, {"rootfs", {{"type", "layers"}, {"diff_ids", ids}}}};
  manifest.config = store.put_blob(config.dump(), std::string(knast::media_type::oci_config));
  const auto descriptor = store.put_blob(manifest.to_json(), std::string(knast::media_type::oci_manifest));
  store.tag(knast::Reference::parse(name), descriptor);
  return store.resolve(name);
}

/// Everything about one object that a faithful copy or a diff round trip must keep.
inline std::string full_description(const fs::path& path, const struct stat& st) {
  std::string text = describe(path, st, false);
  text += fmt::format(" mtime={}.{:09}", st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  for (const auto& attribute : knast::platform::read_xattrs(path)) text += " xattr:" + attribute.name + "=" + attribute.value;
  return text;
}

/// Every object under @p root (not @p root itself) → full_description(); hardlinks show as
/// "link#FIRST". Never follows a link.
inline std::map<std::string, std::string> full_tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::map<std::pair<dev_t, ino_t>, std::string> first_name;
  std::vector<std::pair<std::string, struct stat>> objects;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) throw std::runtime_error("lstat " + it->path().string());
    objects.emplace_back(it->path().lexically_relative(root).string(), st);
  }
  std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [rel, st] : objects) {
    std::string text = full_description(root / rel, st);
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
      text += " link#" + first_name.emplace(std::make_pair(st.st_dev, st.st_ino), rel).first->second;
    out[rel] = text;
  }
  return out;
}

/// Prints the differences of two tree descriptions (for failure messages).
inline std::string tree_difference(const std::map<std::string, std::string>& want,
                                   const std::map<std::string, std::string>& got) {
  std::string out;
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    if (it == got.end()) out += "missing " + k + ": " + v + "\n";
    else if (it->second != v) out += "differs " + k + ":\n  want " + v + "\n  got  " + it->second + "\n";
  }
  for (const auto& [k, v] : got)
    if (!want.count(k)) out += "extra " + k + ": " + v + "\n";
  return out;
}

/// Every path under @p root (itself included), for "nothing left behind" checks.
inline std::set<std::string> inventory(const fs::path& root) {
  std::set<std::string> out{"."};
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    out.insert(it->path().lexically_relative(root).string());
  return out;
}

/// The mount points of this process's mount namespace.
inline std::multiset<std::string> mount_points() {
  std::multiset<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    fields >> id >> parent >> device >> root >> mount_point;
    out.insert(mount_point);
  }
  return out;
}

/// A small base image: directories, files with odd modes, a symlink, a hardlink pair.
inline std::vector<TestLayer> three_layers() {
  Entry suid = file("bin/tool", "#!/bin/sh\n");
  suid.mode = 04755;
  Entry owned = file("home/user/.profile", "export A=1\n");
  owned.uid = 1000;
  owned.gid = 1000;
  return {
      {{dir("bin"), dir("etc"), file("etc/hostname", "base\n"), file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
        sym("bin/sh", "tool"), suid},
       Filter::gzip},
      {{dir("home"), dir("home/user"), owned, file("etc/hostname", "layer2\n"), hard("etc/passwd-", "etc/passwd")},
       Filter::zstd},
      {{whiteout("etc/passwd-"), file("srv/data.txt", std::string(100000, 'd')), dir("var"), dir("var/empty")},
       Filter::none},
  };
}

}  // namespace rootfs_snap
