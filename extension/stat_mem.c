/*-------------------------------------------------------------------------
 *
 * stat_mem.c
 *		Large memory of the statistics aggregate: mapped once, kept by the
 *		backend between queries, returned when the aggregate's context goes.
 *
 * A statistic over millions of flows needs hundreds of megabytes (the
 * groups, their index, the partial states of parallel workers).  Taken from
 * malloc, every query maps them afresh and the kernel zeroes and maps each
 * 4 kB page on first touch: profiles of -s ip showed a third of the CPU
 * there.  Here the large blocks are mapped with mmap, and when the
 * aggregate's memory context is reset or deleted they go to a small
 * per-backend cache instead of back to the kernel, so the next query of
 * the session finds them mapped and touched.  The cache keeps at most
 * nfpg.stat_memory_cache bytes (default 256 MB; 0 turns it off); a
 * parallel worker's cache ends with the worker.
 *
 * Transparent huge pages (nfpg.stat_huge_pages, off by default) spare the
 * hash probes most of their TLB misses: -s ip over a packed hour of 10M
 * flows takes 12 % less on an open connection.  But a virtual machine
 * whose kernel reports free memory to its hypervisor (virtio-balloon free
 * page reporting, order 9: exactly the 2 MB blocks a huge page takes) gets
 * those pages back from the host on first touch, and there a fresh
 * process faulted 2 MB pages at 0.33 GB/s against 2.1 GB/s for 4 kB ones:
 * -s ip as a new psql process, five alternated runs each, took a median
 * 2.68 s with huge pages and 2.43 s without (docs/performance.md).  A command-line or cron query is such a
 * process, hence the default; a host without the balloon, or a pool of
 * long sessions, can turn them on.
 *
 * Small requests (nf_topn as one aggregate per group of a GROUP BY) are
 * ordinary pallocs in the aggregate's context: only blocks of at least
 * STAT_BIG bytes are mapped.  Fresh mappings are zero, so a zeroed block
 * costs a memset only when it comes from the cache.
 *
 *-------------------------------------------------------------------------
 */
#include "stat.h"

#include <limits.h>
#include <sys/mman.h>

#include "utils/guc.h"
#include "utils/memutils.h"

#define STAT_BIG		((Size) 1 << 20)
#define STAT_HUGE_PAGE	((Size) 2 << 20)
#define CACHE_BLOCKS	32

static int	cache_kb = 256 * 1024;
static bool huge_pages = false;
static StatBlock cache[CACHE_BLOCKS];
static int	ncached;
static Size cached_bytes;

void
stat_mem_init(void)
{
	DefineCustomIntVariable("nfpg.stat_memory_cache",
							"Memory of nf_stat/nf_aggregate a session keeps for its next query.",
							"Hash tables are mapped once and reused; 0 returns them to the system after each query.",
							&cache_kb, 256 * 1024, 0, MAX_KILOBYTES, PGC_USERSET,
							GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomBoolVariable("nfpg.stat_huge_pages",
							 "Map the memory of nf_stat/nf_aggregate in transparent huge pages.",
							 "Fewer TLB misses on large tables; slow first touch on virtual machines that report free memory to the host.",
							 &huge_pages, false, PGC_USERSET, 0, NULL, NULL, NULL);
}

/* A fresh mapping of size bytes (a multiple of 2 MB), on a 2 MB boundary. */
static void *
map_block(Size size)
{
	char	   *p = mmap(NULL, size + STAT_HUGE_PAGE, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char	   *aligned;

	if (p == MAP_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("nf_topn: failed to map %zu bytes.", size)));
	aligned = (char *) TYPEALIGN(STAT_HUGE_PAGE, p);
	if (aligned > p)
		munmap(p, aligned - p);
	if (aligned + size < p + size + STAT_HUGE_PAGE)
		munmap(aligned + size, p + size + STAT_HUGE_PAGE - (aligned + size));
#ifdef MADV_HUGEPAGE
	if (huge_pages)
		(void) madvise(aligned, size, MADV_HUGEPAGE);
#endif
	return aligned;
}

/* Give a block to the cache, or back to the kernel when the cache is full. */
static void
unmap_block(void *ptr, Size size)
{
	if (ncached < CACHE_BLOCKS && cached_bytes + size <= (Size) cache_kb * 1024)
	{
		cache[ncached].ptr = ptr;
		cache[ncached].size = size;
		ncached++;
		cached_bytes += size;
		return;
	}
	munmap(ptr, size);
}

/* Memory context callback: the state's blocks outlive it no longer. */
static void
release_callback(void *arg)
{
	stat_release((StatState *) arg);
}

/* Room in st->blocks for one more block. */
static void
stat_alloc_slot(StatState *st)
{
	int			n;

	if (st->nblocks < st->maxblocks)
		return;
	n = Max(8, 2 * st->maxblocks);
	if (st->blocks == NULL)
	{
		MemoryContextCallback *cb = MemoryContextAlloc(st->cxt, sizeof(*cb));

		cb->func = release_callback;
		cb->arg = st;
		MemoryContextRegisterResetCallback(st->cxt, cb);
		st->blocks = MemoryContextAlloc(st->cxt, n * sizeof(StatBlock));
	}
	else
		st->blocks = repalloc(st->blocks, n * sizeof(StatBlock));
	st->maxblocks = n;
}

/*
 * size bytes for st, zeroed if asked.  Blocks of STAT_BIG bytes or more come
 * from the cache (the smallest that fits) or a fresh mapping; both go back
 * when st's context is reset or deleted, or at stat_free.
 */
void *
stat_alloc(StatState *st, Size size, bool zero)
{
	int			best = -1;
	void	   *p;

	if (size < STAT_BIG)
		return MemoryContextAllocExtended(st->cxt, size, zero ? MCXT_ALLOC_ZERO : 0);
	size = TYPEALIGN(STAT_HUGE_PAGE, size);
	for (int i = 0; i < ncached; i++)
		if (cache[i].size >= size && (best < 0 || cache[i].size < cache[best].size))
			best = i;
	stat_alloc_slot(st);
	if (best >= 0)
	{
		p = cache[best].ptr;
		size = cache[best].size;
		cached_bytes -= size;
		cache[best] = cache[--ncached];
		if (zero)
			memset(p, 0, size);
	}
	else
		p = map_block(size);
	st->blocks[st->nblocks].ptr = p;
	st->blocks[st->nblocks].size = size;
	st->nblocks++;
	return p;
}

/* into takes over from's large blocks (their groups became into's runs). */
void
stat_adopt_blocks(StatState *into, StatState *from)
{
	for (int i = 0; i < from->nblocks; i++)
	{
		stat_alloc_slot(into);
		into->blocks[into->nblocks++] = from->blocks[i];
	}
	from->nblocks = 0;
}

/* Return ptr (from stat_alloc) before the context goes. */
void
stat_free(StatState *st, void *ptr)
{
	for (int i = 0; i < st->nblocks; i++)
		if (st->blocks[i].ptr == ptr)
		{
			unmap_block(ptr, st->blocks[i].size);
			st->blocks[i] = st->blocks[--st->nblocks];
			return;
		}
	pfree(ptr);
}

/* Return every large block of st. */
void
stat_release(StatState *st)
{
	for (int i = 0; i < st->nblocks; i++)
		unmap_block(st->blocks[i].ptr, st->blocks[i].size);
	st->nblocks = 0;
}
