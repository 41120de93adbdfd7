/*
 * ids.c - a growing list of row ids: the contacts and threads a batch
 * touched, the threads a new message connects
 *
 * Private API (store_int.h): store_ids_add, store_ids_sort, store_ids_free.
 */
#include <stdlib.h>

#include "store_int.h"

/* store_ids_add - see store_int.h */
int store_ids_add(struct store *st, struct store_ids *ids, int64_t id)
{
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 16;
		int64_t *nv = realloc(ids->v, cap * sizeof *nv);

		if (!nv)
			return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
		ids->v = nv;
		ids->cap = cap;
	}
	ids->v[ids->n++] = id;
	return STORE_OK;
}

/* cmp_id - qsort order of ids */
static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* store_ids_sort - see store_int.h */
void store_ids_sort(struct store_ids *ids)
{
	size_t i, n = 0;

	if (ids->n < 2)
		return;
	qsort(ids->v, ids->n, sizeof *ids->v, cmp_id);
	for (i = 0; i < ids->n; i++)
		if (n == 0 || ids->v[i] != ids->v[n - 1])
			ids->v[n++] = ids->v[i];
	ids->n = n;
}

/* store_ids_free - see store_int.h */
void store_ids_free(struct store_ids *ids)
{
	free(ids->v);
	ids->v = NULL;
	ids->n = ids->cap = 0;
}
