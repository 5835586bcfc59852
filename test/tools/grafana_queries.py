#!/usr/bin/env python3
"""grafana_queries.py DASHBOARD FROM TO PROFILE: the dashboard's SQL, ready for psql.

Expands what Grafana's PostgreSQL data source would ($__timeFrom() and
$__timeTo() become quoted RFC 3339 times, ${profile} and ${k} the variables'
values) and prints one statement per line, panel title first as a comment,
so a test can run every panel's query against a real database.
"""
import json
import sys

dash = json.load(open(sys.argv[1]))
values = {"${profile}": sys.argv[4], "$profile": sys.argv[4], "${k}": "8"}
for p in dash["panels"]:
    for t in p["targets"]:
        sql = t["rawSql"].replace("$__timeFrom()", "'%s'" % sys.argv[2]).replace("$__timeTo()", "'%s'" % sys.argv[3])
        for k, v in values.items():
            sql = sql.replace(k, v)
        print("-- %s" % p["title"].replace("\n", " "))
        print(" ".join(sql.split()) + ";")
