/*-------------------------------------------------------------------------
 *
 * templates.h
 *		The template cache shared by the NetFlow v9 and IPFIX decoders.
 *
 * Each exporter identity has one TemplateCache: its templates and options
 * templates by id, and a small bounded buffer of data sets that arrived
 * before their template (decoded as soon as the template comes).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_TEMPLATES_H
#define NFPG_TEMPLATES_H

#include "exporter.h"

#define TEMPLATE_MAX_FIELDS		1024	/* real templates have < 100 */
#define TEMPLATE_MAX_PER_EXPORTER 512
#define TEMPLATE_VARLEN			0xffff	/* IPFIX variable-length field */
#define PENDING_MAX_SETS		16		/* per exporter */
#define PENDING_MAX_BYTES		(64 * 1024)	/* per exporter */

typedef struct TemplateField
{
	uint16_t	type;			/* element id, enterprise bit cleared */
	uint16_t	len;			/* TEMPLATE_VARLEN: variable */
	uint32_t	pen;			/* enterprise number; 0 = IANA */
} TemplateField;

typedef struct Template
{
	uint16_t	id;
	uint16_t	nfields;
	uint16_t	nscope;			/* options templates: leading scope fields */
	bool		options;
	bool		ipfix;
	bool		has_varlen;
	uint32_t	min_len;		/* bytes of a record, variable fields counted as 1 */
	TemplateField fields[];
} Template;

extern void tcache_free(TemplateCache *tc);
extern uint32_t tcache_count(const TemplateCache *tc);
extern const Template *tcache_get(const TemplateCache *tc, uint16_t id);

/*
 * Parse the template records of one set (v9 flowset 0/1, IPFIX set 2/3)
 * into the exporter's cache; withdrawals (IPFIX) are applied.  Returns
 * false when the set was malformed (what came before it is kept).
 * New template ids are appended to *added (up to max_added).
 */
extern bool templates_parse_set(DecodeCtx *c, uint16_t set_id, const uint8_t *p,
								size_t len, uint16_t *added, int *n_added,
								int max_added);

/* Keep a data set whose template is unknown; evicts the oldest when full. */
extern void pending_add(DecodeCtx *c, uint16_t set_id, const uint8_t *p,
						size_t len, const TimeBase *tb);

/* Decode the waiting data sets of template `id`, then forget them. */
extern void pending_replay(DecodeCtx *c, uint16_t id);

/* Decode the sets of a v9 packet (first_template_set 0) or IPFIX message (2). */
extern DecodeResult sets_decode(DecodeCtx *c, const uint8_t *p, size_t len,
								const TimeBase *tb, uint16_t first_template_set);

/* elements.c: decode a data set with its template (flows or options) */
extern bool data_set_decode(DecodeCtx *c, const Template *t, const uint8_t *p,
							size_t len, const TimeBase *tb);

#endif							/* NFPG_TEMPLATES_H */
