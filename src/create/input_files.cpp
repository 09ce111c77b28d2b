#include "create/input_files.hpp"

#include <algorithm>

namespace shoal::create {
namespace fs = std::filesystem;

namespace {

Unexpected<CreateError> error(Errc code, std::string detail) {
  return unexpected(CreateError{code, std::move(detail)});
}

}  // namespace

Expected<InputSet, CreateError> collect_input(const fs::path& root_in) {
  std::error_code ec;
  fs::path root = fs::absolute(root_in, ec).lexically_normal();
  if (ec) return error(Errc::io_error, root_in.string() + ": " + ec.message());
  if (root.has_filename() == false) root = root.parent_path();  // "dir/" -> "dir"
  auto status = fs::symlink_status(root, ec);
  if (ec || status.type() == fs::file_type::not_found) return error(Errc::not_found, root_in.string());
  if (status.type() == fs::file_type::symlink) {
    // The root itself may be a link the user typed on purpose: follow that one.
    root = fs::canonical(root, ec);
    if (ec) return error(Errc::not_found, root_in.string());
    status = fs::status(root, ec);
  }

  InputSet set;
  set.name = root.filename().string();
  if (status.type() == fs::file_type::regular) {
    auto size = fs::file_size(root, ec);
    if (ec) return error(Errc::io_error, root.string() + ": " + ec.message());
    set.single_file = true;
    set.files.push_back(InputFile{root, set.name, static_cast<std::int64_t>(size)});
    set.total_size = static_cast<std::int64_t>(size);
  } else if (status.type() == fs::file_type::directory) {
    set.single_file = false;
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
    if (ec) return error(Errc::io_error, root.string() + ": " + ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return error(Errc::io_error, it->path().string() + ": " + ec.message());
      const auto& entry = *it;
      if (!entry.is_regular_file(ec) || entry.is_symlink(ec)) continue;
      auto size = entry.file_size(ec);
      if (ec) return error(Errc::io_error, entry.path().string() + ": " + ec.message());
      set.files.push_back(InputFile{entry.path(), entry.path().lexically_relative(root).generic_string(),
                                    static_cast<std::int64_t>(size)});
      set.total_size += static_cast<std::int64_t>(size);
    }
    if (ec) return error(Errc::io_error, root.string() + ": " + ec.message());
    std::sort(set.files.begin(), set.files.end(),
              [](const InputFile& a, const InputFile& b) { return a.relative < b.relative; });
  } else {
    return error(Errc::not_regular, root_in.string());
  }
  if (set.files.empty() || set.total_size == 0) return error(Errc::empty, root_in.string());
  return set;
}

void sort_for_file_tree(InputSet& input) {
  // '/' ranks below every byte: a name that ends here sorts before any longer name it is a prefix of.
  auto rank = [](char c) { return c == '/' ? -1 : static_cast<int>(static_cast<unsigned char>(c)); };
  std::sort(input.files.begin(), input.files.end(), [&](const InputFile& a, const InputFile& b) {
    return std::lexicographical_compare(a.relative.begin(), a.relative.end(), b.relative.begin(),
                                        b.relative.end(), [&](char x, char y) { return rank(x) < rank(y); });
  });
}

}  // namespace shoal::create
