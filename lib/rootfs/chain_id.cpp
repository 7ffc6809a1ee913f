// The chain ID of a stack of layers (OCI image spec, config.md, "Layer ChainID").
#include <knast/rootfs.hpp>

#include <knast/error.hpp>

namespace knast {
inline namespace v0 {

Digest chain_id(std::span<const Digest> diff_ids) {
  if (diff_ids.empty()) throw Error(ErrorCode::invalid_argument, "a chain ID needs at least one diff_id; none given");
  // ChainID(L0) = DiffID(L0); ChainID(L0|…|Ln) = Digest(ChainID(L0|…|Ln-1) + " " + DiffID(Ln)).
  Digest chain = diff_ids.front();
  for (const auto& diff_id : diff_ids.subspan(1)) chain = Digest::of(chain.string() + " " + diff_id.string());
  return chain;
}

}  // namespace v0
}  // namespace knast
