#include "collection_registry.hpp"

namespace ragwire::dataplane {

void CollectionRegistry::publish(const std::string& name, std::shared_ptr<Index> index, const PlanRules& rules,
                                 const std::string& column_dir) {
  auto c = std::make_shared<PublishedCollection>();
  c->plan.dim = index->config().dim;
  c->plan.kind = index->config().kind;
  c->plan.f32 = index->config().storage == StorageKind::kF32;
  c->plan.rules = rules;
  c->index = std::move(index);
  // Without its column the collection is published unanswerable: JavaScript answers its queries.
  if (!PayloadColumn::open(column_dir, &c->column).is_ok()) c->column.reset();
  std::lock_guard<std::mutex> lock(mu_);
  collections_[name] = std::move(c);
}

void CollectionRegistry::unpublish(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  collections_.erase(name);
}

void CollectionRegistry::put(const std::string& name, std::vector<std::pair<uint32_t, PublishedRow>> rows) {
  std::shared_ptr<PublishedCollection> c = find(name);
  if (!c) return;
  std::unique_lock<std::shared_mutex> lock(c->mu);
  if (!c->answerable()) return;
  for (auto& [label, row] : rows) {
    const std::string_view payload(row.payload);
    if (!c->column->put(label, row.id, row.has_payload ? &payload : nullptr).is_ok()) {
      c->column_failed = true;
      c->column.reset();  // its file goes at once
      return;
    }
    c->filters.add(label, std::move(row.fields));
  }
}

void CollectionRegistry::remove(const std::string& name, const uint32_t* labels, size_t n) {
  std::shared_ptr<PublishedCollection> c = find(name);
  if (!c) return;
  std::unique_lock<std::shared_mutex> lock(c->mu);
  if (!c->answerable()) return;
  for (size_t i = 0; i < n; i++) {
    c->column->remove(labels[i]);
    c->filters.remove(labels[i]);
  }
}

void CollectionRegistry::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  collections_.clear();
}

std::shared_ptr<PublishedCollection> CollectionRegistry::find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = collections_.find(std::string(name));
  return it == collections_.end() ? nullptr : it->second;
}

size_t CollectionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return collections_.size();
}

}  // namespace ragwire::dataplane
