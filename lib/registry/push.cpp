// Registry::push (being written).
#include "registry/operations.hpp"

namespace knast {
inline namespace v0 {
namespace registry_detail {

PushResult push_image(RegistryClient&, ImageStore&, const Reference&, const Reference&, const PushOptions&) {
  throw Error(ErrorCode::unsupported, "push is not implemented yet");
}

}  // namespace registry_detail
}  // namespace v0
}  // namespace knast
