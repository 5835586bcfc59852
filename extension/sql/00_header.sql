-- nfpg install script, assembled by the Makefile from extension/sql/*.sql
-- (update scripts from extension/updates/ and the files new in their release).
\echo Use "CREATE EXTENSION nfpg" to load this file. \quit
