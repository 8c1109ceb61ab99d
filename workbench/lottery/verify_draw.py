"""Check a 双随机 draw record with the standard library only: python verify_draw.py DRAW.json"""
import hashlib, json, sys  # noqa: E401


def check(d):
    sha = lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest()  # noqa: E731
    order = lambda ids: sorted(ids, key=lambda x: (sha(d["seed"] + "|" + x), x))  # noqa: E731
    C, bad = d["cells"], []
    bad += ["candidates of " + c["stratum"] for c in C if sha("\n".join(sorted(c["candidates"]))) != c["candidates_sha256"]]
    w = [len(c["candidates"]) * d["ratios_bp"][c["key"]["credit"]] for c in C]
    k, fixed = {}, {}
    while [i for i in range(len(C)) if i not in fixed and w[i] > 0]:
        op = [i for i in range(len(C)) if i not in fixed and w[i] > 0]
        left, W = d["n_institutions"] - sum(fixed.values()), sum(w[i] for i in op)
        k = {i: left * w[i] // W for i in op}
        for i in sorted(op, key=lambda i: (-(left * w[i] % W), i))[: left - sum(k.values())]:
            k[i] += 1
        over = {i: len(C[i]["candidates"]) for i in op if k[i] > len(C[i]["candidates"])}
        if not over:
            break
        fixed.update(over)
    k.update(fixed)
    bad += ["drawn in " + c["stratum"] for i, c in enumerate(C) if order(c["candidates"])[: k.get(i, 0)] != c["drawn"]]
    P = d["drawn_inspectors"]
    if sha("\n".join(sorted(d["inspector_pool"]))) != d["inspector_pool_sha256"] or [p["inspector_id"] for p in P] != order(d["inspector_pool"])[: d["n_inspectors"]]:
        bad.append("inspectors")
    if [t["fixmedins_code"] for t in d["teams"]] != [x for c in C for x in c["drawn"]]:
        bad.append("institutions of the teams")
    load = {p["inspector_id"]: 0 for p in P}
    for t in d["teams"]:
        free = [p for p in P if p["former_fixmedins_code"] != t["fixmedins_code"] and not (d["exclude_own_county"] and t["admdvs"] and p["admdvs"] == t["admdvs"])]
        team = [p["inspector_id"] for p in sorted(free, key=lambda p: load[p["inspector_id"]])[: d["team_size"]]]
        bad += [] if team == t["inspectors"] else ["team " + t["team"]]
        for x in team:
            load[x] += 1
    return bad


if __name__ == "__main__":
    problems = check(json.load(open(sys.argv[1], encoding="utf-8")))
    print("verified" if not problems else "NOT verified: " + "; ".join(problems))
    sys.exit(1 if problems else 0)
