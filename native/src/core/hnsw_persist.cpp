// The graph in a snapshot: its header, the layer-0 links (borrowed from the mapping on load, not
// copied), the node levels and the upper layers; every count and link is range-checked on load.
#include <cstring>

#include "hnsw_internal.hpp"
#include "ragwire/hnsw_index.hpp"

namespace ragwire {

namespace {
constexpr uint32_t kGraph = section_tag("HNSW");
constexpr uint32_t kLinks0 = section_tag("HNL0");
constexpr uint32_t kLevels = section_tag("HNLV");
constexpr uint32_t kUpper = section_tag("HNUP");
// Present (one uint32, 1) when layer 0 keeps inline codes: they are derived from the links and codes,
// so the snapshot records the choice, not the copies.
constexpr uint32_t kInlineCodes = section_tag("HNIC");

struct GraphMeta {
  uint32_t entry;
  int32_t max_level;
  uint32_t M;
  uint32_t M0;
};
}  // namespace

void HnswIndex::save_structure(SnapshotWriter& w) const {
  GraphMeta meta{entry_, max_level_, M_, M0_};
  std::vector<uint32_t> flat;
  for (size_t id = 0; id < rows(); id++) flat.insert(flat.end(), upper_[id].begin(), upper_[id].end());
  w.add_copy(kGraph, &meta, sizeof meta);
  w.add_array(kLinks0, links0_, rows() * (M0_ + 1));
  w.add_array(kLevels, levels_, rows());
  w.add_copy(kUpper, flat.data(), flat.size() * sizeof(uint32_t));
  if (cfg_.hnsw.inline_codes) {
    uint32_t on = 1;
    w.add_copy(kInlineCodes, &on, sizeof on);
  }
}

Status HnswIndex::load_structure(const SnapshotReader& r) {
  GraphMeta* meta;
  size_t n;
  RAGWIRE_RETURN_IF_ERROR(r.view(kGraph, &meta, &n));
  size_t total = rows();
  auto corrupt = [](const char* why) {
    return Status(Code::kCorruptSnapshot, std::string("snapshot graph is corrupt: ") + why);
  };
  if (n != 1 || meta->M != M_ || meta->M0 != M0_) return corrupt("bad graph header");
  if (total == 0 ? meta->entry != kNone : meta->entry >= total) return corrupt("entry point out of range");
  if (meta->max_level < -1 || meta->max_level > hnsw::kMaxLevel) return corrupt("bad top level");
  RAGWIRE_RETURN_IF_ERROR(r.borrow(kLinks0, &links0_, total * (M0_ + 1)));
  RAGWIRE_RETURN_IF_ERROR(r.borrow(kLevels, &levels_, total));
  uint32_t* flat;
  size_t flat_len;
  RAGWIRE_RETURN_IF_ERROR(r.view(kUpper, &flat, &flat_len));
  upper_.assign(total, {});
  size_t pos = 0;
  for (size_t id = 0; id < total; id++) {
    int lv = levels_[id];
    if (lv > meta->max_level) return corrupt("node above the top level");
    size_t len = (size_t)lv * (M_ + 1);
    if (pos + len > flat_len) return corrupt("upper layers truncated");
    upper_[id].assign(flat + pos, flat + pos + len);
    pos += len;
    for (int lev = 0; lev <= lv; lev++) {
      const uint32_t* l = links((uint32_t)id, lev);
      if (l[0] > max_links(lev)) return corrupt("too many links");
      for (uint32_t j = 1; j <= l[0]; j++)
        if (l[j] >= total) return corrupt("link out of range");
    }
  }
  if (pos != flat_len) return corrupt("upper layers have trailing data");
  // Searches descend from the entry point through every layer and follow
  // upper-layer links into those nodes' lists on the same layer: both must exist.
  if (total > 0 && levels_[meta->entry] != meta->max_level) return corrupt("entry point is not on the top layer");
  for (size_t id = 0; id < total; id++)
    for (int lev = 1; lev <= levels_[id]; lev++) {
      const uint32_t* l = links((uint32_t)id, lev);
      for (uint32_t j = 1; j <= l[0]; j++)
        if (levels_[l[j]] < lev) return corrupt("link to a node absent from its layer");
    }
  entry_ = meta->entry;
  max_level_ = meta->max_level;
  if (r.has(kInlineCodes)) {
    uint32_t* on;
    RAGWIRE_RETURN_IF_ERROR(r.view(kInlineCodes, &on, &n));
    if (n != 1 || *on != 1) return corrupt("bad inline-codes section");
    IndexConfig inline_cfg = cfg_;
    inline_cfg.hnsw.inline_codes = true;
    if (!inline_cfg.validate().is_ok()) return corrupt("inline codes on a storage without them");
    cfg_.hnsw.inline_codes = true;
    return update_inline(0, total, nullptr);
  }
  return Status::ok();
}

size_t HnswIndex::structure_bytes() const {
  size_t b = links0_.bytes() + inline0_.bytes() + levels_.bytes() + upper_.capacity() * sizeof(std::vector<uint32_t>);
  for (const auto& u : upper_) b += u.capacity() * sizeof(uint32_t);
  return b;
}

}  // namespace ragwire
