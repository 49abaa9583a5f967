#!/usr/bin/env python3
"""Puts the regenerated hotline report beside the seed's 专项报告四 figures (docs/ANALYTICS.md).

usage: scripts/seed-report-compare.py REPORT.json SCALE

REPORT.json is `jiesu report hotline --from 2019-01 --to 2021-11 --format json` over a demo city
generated with `jiesu generate --from 2019-01 --to 2021-11 --scale SCALE`. Counts are divided by
SCALE before they are compared (so they read in 万件 at Beijing's volume); shares are compared as
they are. Prints a Markdown table: figure, seed, regenerated, difference.
"""
import json
import sys

# The seed's figures (专项报告四, lines ~759-1280 of the seed document), in 万 where counts.
SEED = {
    "受理总量（万件）": 3134,
    "电话占比": 0.921,
    "网络占比": 0.079,
    "派单占比": 0.415,
    "解答咨询占比": 0.585,
    "2019 年受理量（万件）": 696,
    "2021 年受理量（万件，至 11 月）": 1335,
    "来电号码 2019（万个）": 282,
    "来电号码 2020（万个）": 435,
    "来电号码 2021（万个）": 562,
    "连续三年来电号码（万个）": 70,
    "2020 新增号码比例": 0.818,
    "2021 新增号码比例": 0.769,
    "区级部门承办占比": 0.378,
    "街乡镇承办占比": 0.360,
    "市属机构承办占比": 0.161,
    "国有企业承办占比": 0.074,
    "电商企业及其他承办占比": 0.027,
    "朝阳区承办占各区": 0.172,
    "海淀区承办占各区": 0.131,
    "延庆区承办占各区": 0.015,
    "中心城区及副中心占各区": 0.605,
    "平原新城占各区": 0.269,
    "生态涵养区占各区": 0.126,
}
TOP10 = ["疫情防控", "市场管理", "住房", "城乡建设", "交通管理", "公共服务", "社会秩序", "卫生健康", "教育", "劳动和社会保障"]
TOP10_SEED = [424, 297, 177, 163, 139, 135, 129, 113, 101, 100]


def main():
    r = json.load(open(sys.argv[1]))
    scale = float(sys.argv[2])
    o, h = r["overview"], r["handling"]
    wan = lambda n: n / scale / 10_000
    years = {y["year"]: y for y in o["years"]}
    kinds = {k["code"]: k["share"] for k in h["by_unit_kind"]}
    districts = {d["name"]: d["share"] for d in h["districts"]}
    zones = {z["name"]: z["share"] for z in h["zones"]}
    got = {
        "受理总量（万件）": wan(o["total"]),
        "电话占比": o["phone_share"],
        "网络占比": o["online_share"],
        "派单占比": o["dispatched_share"],
        "解答咨询占比": o["answered_directly_share"],
        "2019 年受理量（万件）": wan(years.get(2019, {}).get("total", 0)),
        "2021 年受理量（万件，至 11 月）": wan(years.get(2021, {}).get("total", 0)),
        "来电号码 2019（万个）": wan(years.get(2019, {}).get("requesters", 0)),
        "来电号码 2020（万个）": wan(years.get(2020, {}).get("requesters", 0)),
        "来电号码 2021（万个）": wan(years.get(2021, {}).get("requesters", 0)),
        "连续三年来电号码（万个）": wan(o["requesters_every_year"]),
        "2020 新增号码比例": years.get(2020, {}).get("new_requester_share"),
        "2021 新增号码比例": years.get(2021, {}).get("new_requester_share"),
        "区级部门承办占比": kinds.get("district_department", 0) + kinds.get("district", 0),
        "街乡镇承办占比": kinds.get("street_town", 0) + kinds.get("community", 0),
        "市属机构承办占比": kinds.get("city_department", 0),
        "国有企业承办占比": kinds.get("state_enterprise", 0),
        "电商企业及其他承办占比": kinds.get("ecommerce", 0) + kinds.get("other", 0) + kinds.get("centre", 0),
        "朝阳区承办占各区": districts.get("朝阳区"),
        "海淀区承办占各区": districts.get("海淀区"),
        "延庆区承办占各区": districts.get("延庆区"),
        "中心城区及副中心占各区": zones.get("中心城区及副中心"),
        "平原新城占各区": zones.get("平原新城"),
        "生态涵养区占各区": zones.get("生态涵养区"),
    }
    print(f"| figure | seed | regenerated (scale {scale}, counts ÷ {scale}) | difference |")
    print("|---|---|---|---|")
    for k, seed in SEED.items():
        g = got.get(k)
        if g is None:
            print(f"| {k} | {fmt(seed, k)} | — | — |")
            continue
        diff = (g - seed) if "占" in k or "比例" in k else (g / seed - 1 if seed else 0)
        unit = " pt" if "占" in k or "比例" in k else ""
        d = f"{diff * 100:+.1f}{unit}" if unit else f"{diff * 100:+.1f} %"
        print(f"| {k} | {fmt(seed, k)} | {fmt(g, k)} | {d} |")
    cats = {c["name"]: c["count"] for c in r["top_categories"]}
    ranks = [c["name"] for c in r["top_categories"]]
    print()
    print("| 前十类问题 (seed rank) | seed（万件） | regenerated（万件） | regenerated rank |")
    print("|---|---|---|---|")
    for i, (name, seed) in enumerate(zip(TOP10, TOP10_SEED), 1):
        g = cats.get(name)
        rank = ranks.index(name) + 1 if name in ranks else "—"
        print(f"| {i}. {name} | {seed} | {wan(g):.0f} | {rank} |" if g is not None else f"| {i}. {name} | {seed} | not in the top ten | — |")


def fmt(v, k):
    if "占" in k or "比例" in k:
        return f"{v * 100:.1f} %"
    return f"{v:.0f}"


if __name__ == "__main__":
    main()
