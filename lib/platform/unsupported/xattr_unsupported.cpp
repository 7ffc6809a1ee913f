// Other systems: no extended attributes.
#include "platform/xattr.hpp"

namespace knast::platform {

std::vector<ExtendedAttribute> read_xattrs(const std::filesystem::path&) { return {}; }
bool write_xattr(const std::filesystem::path&, const ExtendedAttribute&) { return false; }

}  // namespace knast::platform
