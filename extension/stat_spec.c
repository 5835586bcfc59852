/*-------------------------------------------------------------------------
 *
 * stat_spec.c
 *		Parse the specification string of the statistics aggregate.
 *
 * The aggregate nfpg.nf_topn(spec, counters..., VARIADIC keys) is told what
 * to compute by a short string, normally written by nf_stat() or
 * nf_aggregate() but open to direct use in any GROUP BY:
 *
 *		MODE ORDER[:a|:d] N FIELD[,FIELD...]
 *
 *	MODE	stat (one key per row), stat2 (two-sided: the keys are a source
 *			half and a destination half, each row counts once per side),
 *			a (nfdump -a), A (-A), b (-b), B (-B)
 *	ORDER	flows packets ipkg opkg bytes ibyte obyte pps ipps opps bps ibps
 *			obps bpp ibpp obpp tstart tend duration, or "-" (none: tstart)
 *	N		top N, 0 for all
 *	FIELD	name[/4:L|/6:L][:mpls|:hex]: the name labels the key (for A/a/b/B
 *			it is the nfpg.flows column the key fills), /4:L and /6:L are
 *			nfdump's srcip4/L and srcip6/L masks, :mpls and :hex choose how
 *			nf_stat renders the value.  For stat2 only one half is named.
 *
 * The key types come from the call (get_fn_expr_argtype), so a key can be
 * inet, cidr, smallint, integer, bigint, macaddr or boolean.
 *
 *-------------------------------------------------------------------------
 */
#include "stat.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

static const char *const order_names[] = {
	"flows", "packets", "ipkg", "opkg", "bytes", "ibyte", "obyte",
	"pps", "ipps", "opps", "bps", "ibps", "obps",
	"bpp", "ibpp", "obpp", "tstart", "tend", "duration"
};

StatOrder
stat_order_lookup(const char *name)
{
	for (int i = 0; i < (int) lengthof(order_names); i++)
		if (pg_strcasecmp(name, order_names[i]) == 0)
			return (StatOrder) i;
	return ORD_NONE;
}

/* Which counters a row shows under an order key (nfdump 3.1). */
StatSide
stat_order_side(StatOrder order)
{
	switch (order)
	{
		case ORD_OPKG:
		case ORD_OBYTE:
		case ORD_OPPS:
		case ORD_OBPS:
		case ORD_OBPP:
			return SIDE_OUT;
		case ORD_PACKETS:
		case ORD_BYTES:
		case ORD_PPS:
		case ORD_BPS:
		case ORD_BPP:
			return SIDE_BOTH;
		default:
			return SIDE_IN;
	}
}

static int
slot_width(Oid type)
{
	switch (type)
	{
		case INETOID:
		case CIDROID:
			return 2 + 16;		/* family, bits, address */
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return 8;
		case MACADDROID:
			return 6;
		case BOOLOID:
			return 1;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("nf_topn: keys of type %s are not supported",
							format_type_be(type)),
					 errhint("Use inet, cidr, smallint, integer, bigint, macaddr or boolean keys.")));
	}
	return 0;
}

static StatMode
parse_mode(const char *tok)
{
	static const char *const names[] = {"stat", "stat2", "a", "A", "b", "B"};

	for (int i = 0; i < (int) lengthof(names); i++)
		if (strcmp(tok, names[i]) == 0)
			return (StatMode) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("nf_topn: unknown mode \"%s\"", tok),
			 errhint("Modes are stat, stat2, a, A, b and B.")));
	return STAT_ONE;
}

static void
parse_order(StatSpec *spec, char *tok)
{
	char	   *dir = strchr(tok, ':');

	spec->ascending = false;
	if (dir)
	{
		*dir++ = '\0';
		if (strcmp(dir, "a") == 0)
			spec->ascending = true;
		else if (strcmp(dir, "d") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("nf_topn: order direction must be :a or :d, not \":%s\"", dir)));
	}
	if (strcmp(tok, "-") == 0)
	{
		spec->order = ORD_TSTART;
		spec->ascending = true;
		return;
	}
	spec->order = stat_order_lookup(tok);
	if (spec->order == ORD_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nf_topn: unknown order key \"%s\"", tok)));
	/* tstart and tend sort ascending unless told otherwise, as -O does */
	if (!dir && (spec->order == ORD_TSTART || spec->order == ORD_TEND))
		spec->ascending = true;
}

/* name[/4:L|/6:L][:mpls|:hex] */
static void
parse_field(StatKeyDef *def, char *tok)
{
	char	   *p;

	if ((p = strrchr(tok, ':')) && (strcmp(p, ":mpls") == 0 || strcmp(p, ":hex") == 0))
	{
		def->render = strcmp(p, ":mpls") == 0 ? RENDER_MPLS : RENDER_HEX;
		*p = '\0';
	}
	if ((p = strchr(tok, '/')))
	{
		int			bits;

		*p++ = '\0';
		if ((p[0] != '4' && p[0] != '6') || p[1] != ':' ||
			(bits = atoi(p + 2)) < 1 || bits > (p[0] == '4' ? 32 : 128))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("nf_topn: bad mask \"/%s\" on field \"%s\"", p, tok)));
		if (p[0] == '4')
			def->mask4 = bits;
		else
			def->mask6 = bits;
	}
	strlcpy(def->name, tok, NAMEDATALEN);
}

/*
 * Fill spec from text; nargs/types are the key arguments of the call (for
 * stat2 both halves).  Raises an error on anything malformed.
 */
void
stat_spec_parse(StatSpec *spec, const char *text, int nargs, const Oid *types)
{
	char	   *copy = pstrdup(text);
	char	   *save;
	char	   *tok;
	char	   *fields;
	char	   *end;
	int			nnamed = 0;
	int			offset = 0;

	memset(spec, 0, sizeof(*spec));
	spec->text = pstrdup(text);

	if (!(tok = strtok_r(copy, " ", &save)))
		goto malformed;
	spec->mode = parse_mode(tok);
	if (!(tok = strtok_r(NULL, " ", &save)))
		goto malformed;
	parse_order(spec, tok);
	if (!(tok = strtok_r(NULL, " ", &save)))
		goto malformed;
	spec->top = strtoll(tok, &end, 10);
	if (*end || spec->top < 0)
		goto malformed;
	fields = strtok_r(NULL, " ", &save);

	spec->nkeys = spec->mode == STAT_TWO ? nargs / 2 : nargs;
	if (nargs < 1 || spec->nkeys > STAT_MAX_KEYS ||
		(spec->mode == STAT_TWO && nargs % 2 != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nf_topn: %d key arguments do not fit mode \"%s\"",
						nargs, text)));
	if ((spec->mode == STAT_BIDIR || spec->mode == STAT_BIDIR_GUESS) && nargs != 5)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nf_topn: modes b and B take the 5-tuple src_addr, dst_addr, src_port, dst_port, proto")));

	for (char *f = fields ? strtok_r(fields, ",", &save) : NULL; f; f = strtok_r(NULL, ",", &save))
	{
		if (nnamed >= spec->nkeys)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("nf_topn: more field names than keys in \"%s\"", text)));
		parse_field(&spec->keys[nnamed++], f);
	}
	if (spec->mode != STAT_ONE && spec->mode != STAT_TWO && nnamed != spec->nkeys)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nf_topn: modes a, A, b and B need one field name per key")));

	for (int i = 0; i < spec->nkeys; i++)
	{
		StatKeyDef *def = &spec->keys[i];

		def->type = types[i];
		if (spec->mode == STAT_TWO && types[i + spec->nkeys] != types[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("nf_topn: both halves of a two-sided key must have the same types")));
		if ((def->mask4 || def->mask6) && def->type != INETOID && def->type != CIDROID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("nf_topn: a mask needs an inet key, \"%s\" is %s",
							def->name, format_type_be(def->type))));
		def->offset = offset;
		def->width = slot_width(def->type);
		offset += def->width;
	}
	spec->keylen = offset;
	pfree(copy);
	return;

malformed:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("nf_topn: malformed specification \"%s\"", text),
			 errhint("Expected \"MODE ORDER[:a|:d] N [FIELD,...]\", e.g. \"stat bytes 10 dst_port\".")));
}
