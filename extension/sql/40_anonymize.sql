--------------------------------------------------------------------------------
-- Anonymization (Crypto-PAn, as nfdump's nfanon)
--
-- anonymize(addr, key) maps addresses one-to-one and prefix-preserving: two
-- addresses that share their first k bits give two addresses that share
-- exactly their first k bits.  IPv4 results equal nfanon's; IPv6 is the
-- standard 128-bit Crypto-PAn (nfanon 1.7.1's IPv6 is not, and is not
-- copied).  The mask length is kept.  Prepared keys are cached per backend.
-- See docs/anonymize.md for publishing an anonymized view.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.anonymize(addr inet, key text)
RETURNS inet
AS 'MODULE_PATHNAME', 'anonymize_inet_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION nfpg.anonymize(inet, text) IS
'Crypto-PAn prefix-preserving anonymization of an IPv4 or IPv6 address (mask length kept); key as nfanon -K takes it: exactly 32 characters, or 0x followed by 64 hex digits';

CREATE FUNCTION nfpg.anonymize(addr inet, key bytea)
RETURNS inet
AS 'MODULE_PATHNAME', 'anonymize_inet_bytea'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION nfpg.anonymize(inet, bytea) IS
'Crypto-PAn prefix-preserving anonymization of an IPv4 or IPv6 address (mask length kept); key as 32 bytes (AES-128 key, then pad seed)';

-- EXECUTE stays granted to PUBLIC (the default): the function reveals nothing
-- without the key, and a role still needs USAGE on schema nfpg to call it.
