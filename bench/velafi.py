#!/usr/bin/env python3
"""What operators run today in Python to get a Velafi token, with requests.

    VELAFI_BASE_URL=... VELAFI_API_KEY=... VELAFI_API_SECRET=... python3 bench/velafi.py

Prints the token; exits 1 when Velafi says no.
"""
import hashlib
import hmac
import os
import sys
import time

import requests

base = os.environ.get("VELAFI_BASE_URL", "https://api.velafi.com")
query = "timestamp=%d" % int(time.time() * 1000)
sig = hmac.new(os.environ["VELAFI_API_SECRET"].encode(), query.encode(), hashlib.sha256).hexdigest()
r = requests.get(base + "/v2/token/generate?" + query + "&signature=" + sig,
                 headers={"X-BH-APIKEY": os.environ["VELAFI_API_KEY"]}, timeout=30)
body = r.json()
if body.get("code") != 200:
    sys.exit("velafi: %s %s" % (body.get("code"), body.get("msg")))
print(body["data"]["token"])
