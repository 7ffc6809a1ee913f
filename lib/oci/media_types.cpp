#include <knast/oci.hpp>

#include <algorithm>
#include <array>

namespace knast {
inline namespace v0 {
namespace {

// Media types compare exactly: registries and the spec write them in one spelling, and
// a parameter or a case change would mean a different producer worth knowing about.
template <std::size_t N>
bool is_one_of(std::string_view type, const std::array<std::string_view, N>& types) noexcept {
  return std::find(types.begin(), types.end(), type) != types.end();
}

constexpr std::array manifest_types{media_type::oci_manifest, media_type::docker_manifest};
constexpr std::array index_types{media_type::oci_index, media_type::docker_manifest_list};
constexpr std::array config_types{media_type::oci_config, media_type::docker_config};
constexpr std::array layer_types{
    media_type::oci_layer_tar,          media_type::oci_layer_gzip,
    media_type::oci_layer_zstd,         media_type::oci_layer_nondist_tar,
    media_type::oci_layer_nondist_gzip, media_type::oci_layer_nondist_zstd,
    media_type::docker_layer_gzip,      media_type::docker_layer_foreign_gzip,
};

}  // namespace

bool is_manifest_media_type(std::string_view type) noexcept { return is_one_of(type, manifest_types); }
bool is_index_media_type(std::string_view type) noexcept { return is_one_of(type, index_types); }
bool is_layer_media_type(std::string_view type) noexcept { return is_one_of(type, layer_types); }
bool is_config_media_type(std::string_view type) noexcept { return is_one_of(type, config_types); }

}  // namespace v0
}  // namespace knast
