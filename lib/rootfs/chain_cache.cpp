#include "rootfs/chain_cache.hpp"

#include "core/text.hpp"
#include "image_store/posix_io.hpp"
#include "rootfs/apply_layer.hpp"
#include "rootfs/tree_walk.hpp"

#include <knast/error.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <ctime>
#include <set>
#include <utility>

namespace knast {
inline namespace v0 {
namespace detail {
namespace {

using Json = nlohmann::json;

constexpr std::size_t max_chain_json_bytes = 4 << 20;

/// chain.json of a chain.
std::string chain_json(const ChainInfo& chain) {
  Json diff_ids = Json::array();
  for (const auto& d : chain.diff_ids) diff_ids.push_back(d.string());
  return Json{{"chain_id", chain.chain_id.string()}, {"diff_ids", diff_ids}, {"size", chain.size},
              {"created", chain.created}}
      .dump(2);
}

}  // namespace

UniqueFd lock_cache(const RootfsPaths& paths, bool exclusive) {
  return lock_file(paths.lock(), exclusive ? LockKind::exclusive : LockKind::shared);
}

std::optional<ChainInfo> read_chain(const RootfsPaths& paths, const Digest& chain_id) {
  const auto file = paths.chain_dir(chain_id) / "chain.json";
  const UniqueFd fd = open_if_exists(file, O_RDONLY);
  if (!fd) return std::nullopt;
  try {
    const Json j = Json::parse(read_all(fd, max_chain_json_bytes, file));
    ChainInfo info;
    info.chain_id = Digest::parse(j.at("chain_id").get<std::string>());
    if (info.chain_id != chain_id) return std::nullopt;
    for (const auto& d : j.at("diff_ids")) info.diff_ids.push_back(Digest::parse(d.get<std::string>()));
    info.size = j.at("size").get<std::uint64_t>();
    info.created = j.at("created").get<std::string>();
    info.path = paths.chain_tree(chain_id);
    if (lstat_if_exists(paths.chain_elf_index(chain_id))) info.elf_index = paths.chain_elf_index(chain_id);
    return info;
  } catch (const std::exception&) {
    return std::nullopt;  // damaged: not a usable chain (prune removes it)
  }
}

std::vector<ChainInfo> read_chains(const RootfsPaths& paths) {
  std::vector<ChainInfo> out;
  if (!lstat_if_exists(paths.chains())) return out;
  for (const std::string& name : list_names_sorted(paths.chains())) {
    const auto digest = Digest::try_parse("sha256:" + name);
    if (!digest) continue;
    if (auto chain = read_chain(paths, *digest)) out.push_back(std::move(*chain));
  }
  return out;
}


std::uint64_t tree_content_bytes(const std::filesystem::path& root) {
  std::uint64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::vector<std::filesystem::path> dirs{root};
  while (!dirs.empty()) {
    const std::filesystem::path dir = std::move(dirs.back());
    dirs.pop_back();
    for (const std::string& name : list_names_sorted(dir)) {
      const auto st = lstat_if_exists(dir / name);
      if (!st) continue;
      if (S_ISDIR(st->st_mode)) dirs.push_back(dir / name);
      if (!S_ISREG(st->st_mode)) continue;
      if (st->st_nlink > 1 && !seen.insert({st->st_dev, st->st_ino}).second) continue;
      total += static_cast<std::uint64_t>(st->st_size);
    }
  }
  return total;
}

ApplyReport apply_verified_layer(const std::filesystem::path& root, const std::filesystem::path& blob,
                                 const Descriptor& layer, const Digest& diff_id, const ApplyOptions& options) {
  const HashedApply applied =
      apply_layer_hashed(root, blob, options, layer.media_type, {layer.digest.algorithm(), diff_id.algorithm()});
  if (applied.stored != layer.digest)
    throw Error(ErrorCode::integrity, fmt::format("layer {}: the store's file {} hashes to {}: the store is damaged "
                                                  "(knast verify; then pull the image again)",
                                                  layer.digest.string(), blob.string(), applied.stored.string()));
  if (applied.tar != diff_id)
    throw Error(ErrorCode::integrity,
                fmt::format("layer {}: its uncompressed content is {}, but the image config says diff_id {}",
                            layer.digest.string(), applied.tar.string(), diff_id.string()));
  return applied.report;
}

ChainUnpack::ChainUnpack(const RootfsPaths& paths, Driver& driver, const ApplyOptions& apply,
                         std::vector<Descriptor> layers, std::vector<Digest> diff_ids, UnpackProgress progress)
    : paths_(paths),
      driver_(driver),
      apply_(apply),
      layers_(std::move(layers)),
      diff_ids_(std::move(diff_ids)),
      progress_(std::move(progress)) {
  if (layers_.size() != diff_ids_.size())
    throw Error(ErrorCode::integrity, fmt::format("unpack: the manifest lists {} layers but the config {} diff_ids",
                                                  layers_.size(), diff_ids_.size()));
  if (layers_.empty()) throw Error(ErrorCode::invalid_argument, "unpack: the image has no layers: nothing to unpack");
  for (std::size_t i = 1; i <= diff_ids_.size(); ++i)
    chain_ids_.push_back(knast::chain_id(std::span<const Digest>(diff_ids_.data(), i)));
  lock_ = lock_cache(paths_, false);
  reused_ = read_chain(paths_, chain_id());
  if (reused_) {
    next_ = layers_.size();
    if (progress_)
      for (std::size_t i = 0; i < layers_.size(); ++i) progress_(i, layers_.size(), diff_ids_[i], true);
    return;
  }
  start_build();
}

ChainUnpack::~ChainUnpack() {
  if (build_) driver_.discard_chain(*build_);
}

void ChainUnpack::start_build() {
  // The longest cached prefix: layers 1..k already unpacked as one chain.
  std::size_t k = chain_ids_.size() - 1;
  while (k > 0 && !read_chain(paths_, chain_ids_[k - 1])) --k;
  std::optional<Digest> parent;
  if (k > 0) parent = chain_ids_[k - 1];
  ChainBuild build;
  build.name = unique_name();
  build.dir = paths_.tmp() / build.name;
  build_ = build;
  // A driver that copies the prefix's tree (new inodes, new ctimes) carries the prefix's
  // ELF index over to the build's (copy_chain_tree); the apply appends this build's files.
  driver_.make_chain_tree(*build_, parent);
  next_ = k;
  if (progress_)
    for (std::size_t i = 0; i < k; ++i) progress_(i, layers_.size(), diff_ids_[i], true);
}

void ChainUnpack::apply_next(const std::filesystem::path& blob) {
  if (next_ >= layers_.size()) throw Error(ErrorCode::internal, "unpack: every layer is applied already");
  const Descriptor& layer = layers_[next_];
  if (progress_) progress_(next_, layers_.size(), diff_ids_[next_], false);
  if (!lstat_if_exists(blob))
    throw Error(ErrorCode::not_found, fmt::format("unpack: layer {} is not in the store: pull the image again",
                                                  layer.digest.string()));
  ApplyOptions apply = apply_;
  apply.elf_index = build_->elf_index();
  try {
    report_ += apply_verified_layer(build_->tree(), blob, layer, diff_ids_[next_], apply);
  } catch (const Error& e) {
    throw e.with_context(fmt::format("unpack layer {} of {} ({})", next_ + 1, layers_.size(), layer.digest.string()));
  }
  ++next_;
  ++applied_;
}

UnpackResult ChainUnpack::finish() {
  UnpackResult result;
  if (reused_) {
    result.chain = *reused_;
    result.reused = true;
    return result;
  }
  if (next_ != layers_.size()) throw Error(ErrorCode::internal, "unpack: finish() before every layer was applied");
  ChainInfo info;
  info.chain_id = chain_id();
  info.diff_ids = diff_ids_;
  info.size = tree_content_bytes(build_->tree());
  info.created = detail::now_rfc3339();
  // The index reaches the disk before the chain is published: brand refuses an index
  // that a crash left as zeros.
  if (const UniqueFd index = open_if_exists(build_->elf_index(), O_RDONLY)) sync_file(index, build_->elf_index());
  const auto json_file = build_->dir / "chain.json";
  replace_file(json_file, build_->dir / ".chain.json.tmp", chain_json(info));
  driver_.publish_chain(*build_, info.chain_id);  // false: another process was first, theirs is kept
  build_.reset();
  auto published = read_chain(paths_, info.chain_id);
  if (!published)
    throw Error(ErrorCode::io, fmt::format("unpack: chain {} was published but cannot be read back from {}",
                                           info.chain_id.string(), paths_.chain_dir(info.chain_id).string()));
  result.chain = std::move(*published);
  result.layers_applied = applied_;
  result.report = report_;
  return result;
}

}  // namespace detail
}  // namespace v0
}  // namespace knast
