/*-------------------------------------------------------------------------
 *
 * pack_storage.c
 *		A packed partition's options and the storage tables they name.
 *
 * A packed hour is a foreign table (pack_fdw.c) whose options name its two
 * heap tables, P_seg and P_late (pack.h), and the flows counted when it was
 * packed; nfpg.pack_partition() sets them and nothing else should.  The
 * storage tables must belong to the foreign table's owner: the options name
 * them, and this check keeps a foreign table from being pointed at somebody
 * else's table to read it.  P_late must have the foreign table's columns,
 * as both are made LIKE nfpg.flows, since its rows are returned as they are.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_foreign_table.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "nodes/makefuncs.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/regproc.h"

#include "pack.h"

PG_FUNCTION_INFO_V1(nfpg_packed_validator);

static const char *const option_names[] = {"segments", "late", "rows", "order", NULL};

Datum
nfpg_packed_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *d = lfirst(lc);
		bool		known = false;

		for (int i = 0; option_names[i]; i++)
			known |= strcmp(d->defname, option_names[i]) == 0;
		if (!known || catalog != ForeignTableRelationId)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\" for nfpg_packed", d->defname),
					 errhint("A packed partition takes the options segments, late, rows and order, set by nfpg.pack_partition().")));
		if (strcmp(d->defname, "order") == 0 && strcmp(defGetString(d), PACK_ORDER_SLOT_PORT) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value \"%s\" for option order of nfpg_packed", defGetString(d)),
					 errhint("The only order is \"%s\", set by nfpg.pack_partition().", PACK_ORDER_SLOT_PORT)));
	}
	PG_RETURN_VOID();
}

void
pack_get_options(Oid relid, PackOptions *o)
{
	ForeignTable *ft = GetForeignTable(relid);
	ListCell   *lc;

	memset(o, 0, sizeof(*o));
	foreach(lc, ft->options)
	{
		DefElem    *d = lfirst(lc);

		if (strcmp(d->defname, "segments") == 0)
			o->segments = defGetString(d);
		else if (strcmp(d->defname, "late") == 0)
			o->late = defGetString(d);
		else if (strcmp(d->defname, "rows") == 0)
			o->rows = strtod(defGetString(d), NULL);
		else if (strcmp(d->defname, "order") == 0)
			o->port_runs = true;	/* the validator allows one value */
	}
	if (!o->segments || !o->late)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("packed partition %s lacks its storage options", get_rel_name(relid))));
}

/* Open a storage table named by an option, owned by the foreign table's owner. */
Relation
pack_open_storage(Relation ftrel, const char *name, LOCKMODE mode)
{
	List	   *names = stringToQualifiedNameList(name);
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(names), mode, true);
	Relation	rel;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("storage table %s of packed partition %s does not exist",
						name, RelationGetRelationName(ftrel))));
	rel = table_open(relid, NoLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relowner != ftrel->rd_rel->relowner)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("storage table %s of packed partition %s is not a table of the same owner",
						name, RelationGetRelationName(ftrel))));
	return rel;
}

/* P_late has the layout of the foreign table (both made LIKE nfpg.flows). */
void
pack_check_late_layout(Relation ftrel, Relation late)
{
	TupleDesc	a = RelationGetDescr(ftrel),
				b = RelationGetDescr(late);
	bool		same = a->natts == b->natts;

	for (int i = 0; same && i < a->natts; i++)
		same = TupleDescAttr(a, i)->attisdropped == TupleDescAttr(b, i)->attisdropped &&
			(TupleDescAttr(a, i)->attisdropped ||
			 (TupleDescAttr(a, i)->atttypid == TupleDescAttr(b, i)->atttypid &&
			  strcmp(NameStr(TupleDescAttr(a, i)->attname), NameStr(TupleDescAttr(b, i)->attname)) == 0));
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("late-row table %s does not have the columns of packed partition %s",
						RelationGetRelationName(late), RelationGetRelationName(ftrel)),
				 errhint("Repack the partition with nfpg.pack_partition().")));
}
