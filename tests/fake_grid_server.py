#!/usr/bin/env python3
"""A loopback stand-in for the grid-intensity providers greenrun's tests use.

    fake_grid_server.py PORTFILE LOGFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE once listening) and
answers in each provider's documented format (Electricity Maps v3, WattTime
v3, the UK Carbon Intensity API), with times around now so that the answers
cover a run. The first path element picks a behaviour:

    /ok/...         the documented answers (Electricity Maps: the latest hour
                    estimated, as its documented example; history measured)
    /estimated/...  Electricity Maps: every hour estimated (isEstimated, estimationMethod)
    /otherzone/...  Electricity Maps: the answer is for zone FR, whatever was asked
    /direct/...     Electricity Maps: emissionFactorType direct, whatever was asked
    /warn/...       WattTime: meta.warnings holds a warning
    /stale/...      WattTime: a forecast generated two days ago
    /401/...        401 {"error": "Invalid auth-token"}
    /echo401/...    401 whose body repeats the auth-token header (a careless server)
    /echoauth/...   403 whose body repeats the Authorization header (Basic or Bearer)
    /429/...        429 with Retry-After: 1, always
    /500/...        500 {"error": {"code": "500 Internal Server Error", ...}}
    /slow/...       the answer after 5 s
    /truncated/...  a Content-Length longer than the body, then the connection closes
    /html/...       200 with an HTML page
    /esctype/...    200 whose Content-Type holds a terminal control sequence

Each request is logged on arrival to LOGFILE as one JSON line {"path", "headers", "t"}
(t: the Unix time it arrived). The
server stops by itself after 10 minutes.
"""

import base64
import datetime as dt
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "test-token-s3cr3t"
WT_USER, WT_PASSWORD, WT_JWT = "grid-user", "grid-pass-s3cr3t", "jwt-s3cr3t"

# Figures the tests work out by hand.
EM_LATEST, EM_NOW, EM_OLD = 214, 250, 599          # gCO2eq/kWh
EM_FORECAST, EM_DIP, EM_DIP_HOUR = 300, 120, 3     # hourly, a dip 3 h ahead
WT_FORECAST_LBS, WT_HISTORY_LBS = 1000, 1100       # lbs/MWh
UK_ACTUAL, UK_FORECAST = 180, 200                   # gCO2/kWh


def utc(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc)


def em_time(t):
    return utc(t).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def uk_time(t):
    return utc(t).strftime("%Y-%m-%dT%H:%MZ")


def parse_uk(text):
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%MZ").replace(tzinfo=dt.timezone.utc).timestamp()


def electricitymaps(path, query, headers, mode):
    if headers.get("auth-token") != TOKEN:
        return 401, {"error": "Invalid auth-token"}
    zone = "FR" if mode == "otherzone" else query.get("zone", ["DE"])[0]
    hour = int(time.time()) // 3600 * 3600
    factor = "direct" if mode == "direct" else query.get("emissionFactorType", ["lifecycle"])[0]
    def entry(t, value, estimated=True):
        return {"zone": zone, "carbonIntensity": value, "datetime": em_time(t), "updatedAt": em_time(time.time()),
                "createdAt": em_time(t - 86400), "emissionFactorType": factor, "isEstimated": estimated,
                "estimationMethod": "TIME_SLICER_AVERAGE" if estimated else None}
    if path.endswith("/latest"):
        return 200, entry(hour, EM_LATEST)
    if path.endswith("/history"):
        history = [entry(hour - h * 3600, EM_NOW if h < 2 else EM_OLD, mode == "estimated") for h in range(23, -1, -1)]
        history[0]["carbonIntensity"] = None  # documented: a missing hour is null
        return 200, {"zone": zone, "history": history}
    if path.endswith("/forecast"):
        forecast = [{"carbonIntensity": EM_DIP if h == EM_DIP_HOUR else EM_FORECAST, "datetime": em_time(hour + h * 3600)}
                    for h in range(0, 25)]
        return 200, {"zone": zone, "forecast": forecast, "updatedAt": em_time(time.time())}
    return 404, {"error": "no such endpoint"}


def watttime(path, query, headers, mode):
    if path == "/login":
        expected = "Basic " + base64.b64encode(f"{WT_USER}:{WT_PASSWORD}".encode()).decode()
        if headers.get("authorization") != expected:
            return 403, {"error": "bad credentials"}
        return 200, {"token": WT_JWT}
    if headers.get("authorization") != "Bearer " + WT_JWT:
        return 401, {"error": "Invalid token"}
    meta = {"data_point_period_seconds": 300, "region": query.get("region", [""])[0], "signal_type": "co2_moer",
            "model": {"date": "2023-03-01"}, "units": "lbs_co2_per_mwh", "warnings": []}
    if mode == "warn":
        meta["warnings"] = [{"type": "MODEL_UPDATE", "message": "A new model version is in use for this region"}]
    now5 = int(time.time()) // 300 * 300
    if path == "/v3/forecast":
        hours = int(query.get("horizon_hours", ["24"])[0])
        data = [{"point_time": utc(now5 + i * 300).isoformat(), "value": WT_FORECAST_LBS} for i in range(hours * 12)]
        meta["generated_at"] = utc(now5 - (2 * 86400 if mode == "stale" else 0)).isoformat()
        return 200, {"data": data, "meta": meta}
    if path == "/v3/historical":
        start = dt.datetime.fromisoformat(query["start"][0].replace("Z", "+00:00")).timestamp()
        end = dt.datetime.fromisoformat(query["end"][0].replace("Z", "+00:00")).timestamp()
        data = [{"point_time": utc(t).isoformat(), "value": WT_HISTORY_LBS} for t in range(int(start), int(end) + 1, 300)]
        return 200, {"data": data, "meta": meta}
    return 404, {"error": "no such endpoint"}


def uk(path, query, headers, mode):
    parts = [p for p in path.split("/") if p]
    regional = parts[0] == "regional"
    if regional:
        parts = parts[1:]
    now30 = int(time.time()) // 1800 * 1800
    def slot(t, actual):
        intensity = {"forecast": UK_FORECAST, "index": "moderate"}
        if not regional:
            intensity["actual"] = UK_ACTUAL if actual else None
        return {"from": uk_time(t), "to": uk_time(t + 1800), "intensity": intensity}
    if parts == ["intensity"] or (regional and parts[0] == "postcode"):
        slots = [slot(now30, True)]
    elif len(parts) >= 3 and parts[2] == "fw48h":
        start = int(parse_uk(parts[1])) // 1800 * 1800
        slots = [slot(start + i * 1800, False) for i in range(96)]
    elif len(parts) >= 3:
        start, end = int(parse_uk(parts[1])), int(parse_uk(parts[2]))
        slots = [slot(t, True) for t in range(start, end, 1800)]
    else:
        return 400, {"error": {"code": "400 Bad Request", "message": "Please enter a valid datetime"}}
    if regional:
        region = {"regionid": 12, "dnoregion": "SSE South", "shortname": "South England", "postcode": "OX1", "data": slots}
        return 200, {"data": [region] if parts[0] == "postcode" else region}
    return 200, {"data": slots}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type="application/json", length=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length if length is not None else len(data)))
        if status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with open(self.server.log, "a") as log:
            log.write(json.dumps({"path": self.path, "headers": headers, "t": time.time()}) + "\n")
        _, mode, provider, rest = (url.path.split("/", 3) + ["", ""])[:4]
        rest = "/" + rest
        try:
            self.answer(mode, provider, rest, parse_qs(url.query), headers)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def answer(self, mode, provider, rest, query, headers):
        if mode == "401":
            return self.send(401, {"error": "Invalid auth-token"})
        if mode == "echo401":
            return self.send(401, {"error": "Invalid auth-token " + headers.get("auth-token", "")})
        if mode == "echoauth":
            said = headers.get("authorization", "")
            return self.send(403, {"error": "bad credentials: " + said})
        if mode == "429":
            return self.send(429, {"error": "Too many requests"})
        if mode == "500":
            return self.send(500, {"error": {"code": "500 Internal Server Error", "message": "try later"}})
        if mode == "html":
            return self.send(200, b"<html><body>Service page</body></html>", "text/html")
        if mode == "esctype":
            return self.send(200, b"{}", "text/\x1b]0;owned\x07\x1b[2Jplain")
        if mode == "slow":
            time.sleep(5)
        handler = {"em": electricitymaps, "wt": watttime, "uk": uk}.get(provider)
        status, body = handler(rest, query, headers, mode) if handler else (404, {"error": "unknown provider"})
        if mode == "truncated":
            data = json.dumps(body).encode()
            self.send(status, data[: len(data) // 2], length=len(data))
            self.close_connection = True
            return
        self.send(status, body)


def main():
    portfile, logfile = sys.argv[1], sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.log = logfile
    open(logfile, "a").close()
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    threading.Timer(600, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
