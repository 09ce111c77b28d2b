// Reading file bytes for hashing (`shoal create`, rechecks): in place through a read-only mapping of the page
// cache where the kernel can fault a range in up front, else with pread().
//
// Reading a mapping past the end of its file raises SIGBUS, which would kill the process over a file that
// shrank (or a torrent that says a file is longer than it is). Two guards: callers fstat() the descriptor and
// refuse a range beyond the end before mapping it, and every range is faulted in with MADV_POPULATE_READ
// before it is read, which fails cleanly (EFAULT) if the file shrank in between. Kernels before Linux 5.14
// have no MADV_POPULATE_READ (madvise says EINVAL); there a mapping is never read, the bytes come through
// pread() instead, which reports a short file as a short read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <system_error>
#include <vector>

namespace shoal::runtime {

// madvise(2) as called for MADV_POPULATE_READ; replaceable so tests can stand in for an older kernel.
using MadviseFn = std::function<int(void* addr, std::size_t length, int advice)>;

// How bytes reach a hasher.
struct MappedReadOptions {
  bool map = true;    // false: always pread() (also what a kernel without MADV_POPULATE_READ gets)
  MadviseFn madvise;  // empty: the real madvise(2)
};

enum class Populate {
  done,         // every page of the range is in: reading the mapping is safe
  failed,       // the pages could not be had: mostly a range beyond the end of the file (it shrank)
  unsupported,  // no MADV_POPULATE_READ on this kernel: do not read the mapping, use pread()
};

// Faults [addr, addr + length) of a read-only file mapping in (addr page-aligned).
Populate populate_read(void* addr, std::size_t length, const MappedReadOptions& options);

// Hands [offset, offset + length) of fd to consume, in order, through buffer (grown to at most 1 MiB);
// errc::no_message_available when the file ends first.
std::error_code pread_range(int fd, std::int64_t offset, std::int64_t length,
                            std::vector<std::uint8_t>& buffer,
                            const std::function<void(std::span<const std::uint8_t>)>& consume);

}  // namespace shoal::runtime
