#include "scheduler/api/node_files.hpp"

namespace openbatch::api {

NodeFiles::Async<FileInfo> LocalNodeFiles::stat(std::string pool, std::string node,
                                                std::string path) {
  co_return tree(pool, node).stat(path);
}

NodeFiles::Async<std::vector<FileInfo>> LocalNodeFiles::list(std::string pool, std::string node,
                                                             std::string dir, bool recursive,
                                                             std::size_t limit) {
  co_return tree(pool, node).list(dir, recursive, limit);
}

NodeFiles::Async<std::string> LocalNodeFiles::read(std::string pool, std::string node,
                                                   std::string path,
                                                   std::optional<ByteRange> range) {
  co_return tree(pool, node).read(path, range);
}

NodeFiles::Async<void> LocalNodeFiles::remove(std::string pool, std::string node, std::string path,
                                              bool recursive) {
  co_return tree(pool, node).remove(path, recursive);
}

}  // namespace openbatch::api
