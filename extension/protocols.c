/*-------------------------------------------------------------------------
 *
 * protocols.c
 *		nfdump 1.7.1's table of IP protocol short names.
 *
 * The index is the protocol number.  Entries that are digits are nfdump's
 * placeholders for numbers it has no name for; they print as the number and
 * must never match a name.  Duplicates (IDPR, IPIP) resolve to the first,
 * as in nfdump.
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>
#include <strings.h>

#include "protocols.h"

static const char *const proto_names[] = {
	"0", "ICMP", "IGMP", "GGP", "IPIP", "ST", "TCP", "CBT", "EGP", "IGP",
	"BBN", "NVPII", "PUP", "ARGUS", "ENCOM", "XNET", "CHAOS", "UDP", "MUX", "DCN",
	"HMP", "PRM", "XNS", "Trnk1", "Trnk2", "Leaf1", "Leaf2", "RDP", "IRTP", "ISO-4",
	"NETBK", "MFESP", "MEINP", "DCCP", "3PC", "IDPR", "XTP", "DDP", "IDPR", "TP++",
	"IL", "IPv6", "SDRP", "Rte6", "Frag6", "IDRP", "RSVP", "GRE", "MHRP", "BNA",
	"ESP", "AH", "INLSP", "SWIPE", "NARP", "MOBIL", "TLSP", "SKIP", "ICMP6", "NOHE6",
	"OPTS6", "HOST", "CFTP", "NET", "SATNT", "KLAN", "RVD", "IPPC", "FS", "SATM",
	"VISA", "IPCV", "CPNX", "CPHB", "WSN", "PVP", "BSATM", "SUNND", "WBMON", "WBEXP",
	"ISOIP", "VMTP", "SVMTP", "VINES", "TTP", "NSIGP", "DGP", "TCF", "EIGRP", "OSPF",
	"S-RPC", "LARP", "MTP", "AX.25", "IPIP", "MICP", "SCCSP", "ETHIP", "ENCAP", "99",
	"GMTP", "IFMP", "PNNI", "PIM", "ARIS", "SCPS", "QNX", "A/N", "IPcmp", "SNP",
	"CpqPP", "IPXIP", "VRRP", "PGM", "0hop", "L2TP", "DDX", "IATP", "STP", "SRP",
	"UTI", "SMP", "SM", "PTP", "ISIS4", "FIRE", "CRTP", "CRUDP", "128", "IPLT",
	"SPS", "PIPE", "SCTP", "FC", "134", "MHEAD", "UDP-L", "MPLS",
};

#define N_PROTO_NAMES	(sizeof(proto_names) / sizeof(proto_names[0]))

const char *
proto_short_name(unsigned int proto)
{
	return proto < N_PROTO_NAMES ? proto_names[proto] : NULL;
}

int
proto_number(const char *name)
{
	for (size_t i = 0; i < N_PROTO_NAMES; i++)
		if (strcasecmp(name, proto_names[i]) == 0)
			return (int) i;
	return -1;
}
