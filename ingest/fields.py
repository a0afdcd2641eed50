"""Canonical fields of each record kind and the column headers recognised for them.

Headers are compared after :func:`header_key` (lower case; spaces, underscores, hyphens,
brackets and their contents such as units removed), so ``经度(GCJ02)``, ``Longitude``
and ``lon`` all match. ``docs/import.md`` lists these names; a test keeps it true.
"""

from __future__ import annotations

import re

KINDS = ("complaints", "points", "inspections")

#: canonical field -> type: id, text, time, float, int, bool
FIELDS: dict[str, dict[str, str]] = {
    "complaints": {
        "complaint_id": "id", "received_at": "time", "category": "text",
        "subcategory": "text", "description": "text", "address": "text", "lon": "float",
        "lat": "float", "status": "text", "due_at": "time", "closed_at": "time",
        "reworked": "int", "satisfied": "bool", "source": "text", "district": "text",
        "street": "text", "community": "text", "grid_id": "text",
    },
    "points": {
        "point_id": "id", "name": "text", "point_type": "text", "lon": "float", "lat": "float",
        "district": "text", "street": "text", "community": "text", "grid_id": "text",
    },
    "inspections": {
        "inspection_id": "id", "point_id": "text", "inspected_at": "time", "team": "text",
        "problem_category": "text", "problems": "int", "deduction": "float",
        "rectify_due": "time", "rectified_at": "time", "lon": "float", "lat": "float",
        "district": "text", "street": "text", "community": "text", "grid_id": "text",
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "complaints": ("complaint_id", "received_at"),
    "points": ("point_id",),
    "inspections": ("inspection_id", "inspected_at"),
}

#: The table each kind lands in, and its id column.
TABLE = {"complaints": "complaints", "points": "inspection_points", "inspections": "inspections"}
ID_FIELD = {"complaints": "complaint_id", "points": "point_id", "inspections": "inspection_id"}

_COMMON_LOCATION = {
    "lon": ["lon", "lng", "long", "longitude", "x", "经度", "坐标x", "gpsx", "经度坐标",
            "事发经度", "点位经度", "location_x"],
    "lat": ["lat", "latitude", "y", "纬度", "坐标y", "gpsy", "纬度坐标", "事发纬度", "点位纬度",
            "location_y"],
    "district": ["district", "county", "区县", "所属区县", "所属区", "区", "行政区", "所在区县",
                 "区县名称", "所属城区", "neighborhood", "neighbourhood"],
    "street": ["street", "subdistrict", "town", "街道", "所属街道", "街道乡镇", "所属街道乡镇",
               "乡镇街道", "街镇", "所属街镇", "街道名称"],
    "community": ["community", "village", "社区", "所属社区", "社区村", "村社区", "所属村社区",
                  "社区名称", "居委会"],
    "grid_id": ["grid_id", "grid", "网格", "网格编号", "网格编码", "所属网格", "单元网格",
                "网格号"],
}

#: canonical field -> recognised headers (compared with header_key)
ALIASES: dict[str, dict[str, list[str]]] = {
    "complaints": {
        "complaint_id": ["complaint_id", "id", "case_id", "case_enquiry_id", "ticket_id",
                         "unique_key", "order_id", "工单编号", "工单号", "案件编号", "案卷编号",
                         "编号", "受理编号", "诉求编号", "投诉编号", "事件编号", "流水号"],
        "received_at": ["received_at", "created", "created_at", "created_date", "open_dt",
                        "opened", "report_time", "受理时间", "来电时间", "上报时间", "投诉时间",
                        "登记时间", "创建时间", "发生时间", "立案时间", "诉求时间", "接收时间"],
        "category": ["category", "type", "complaint_type", "问题类型", "问题大类", "大类",
                     "事件大类", "案件大类", "诉求类型", "投诉类型", "事件类型", "类别"],
        "subcategory": ["subcategory", "subtype", "descriptor", "问题小类", "小类", "事件小类",
                        "案件小类", "问题子类", "细类"],
        "description": ["description", "details", "content", "问题描述", "诉求内容", "投诉内容",
                        "事件描述", "案件描述", "内容", "描述", "来电内容", "反映内容"],
        "address": ["address", "location", "incident_address", "事发地址", "地址", "事发地点",
                    "发生地址", "详细地址", "问题地址", "位置", "地点"],
        "status": ["status", "case_status", "state", "处理状态", "办理状态", "状态", "案件状态",
                   "工单状态", "办结状态", "当前状态"],
        "due_at": ["due_at", "due", "deadline", "target_dt", "due_date", "处置时限", "办理时限",
                   "办结时限", "截止时间", "处理时限", "期限", "应办结时间", "限办时间"],
        "closed_at": ["closed_at", "closed", "closed_dt", "closed_date", "办结时间", "结案时间",
                      "关闭时间", "完成时间", "处置完成时间", "办理完成时间", "归档时间"],
        "reworked": ["reworked", "rework", "rework_count", "返工次数", "返工", "退回次数",
                     "重办次数"],
        "satisfied": ["satisfied", "satisfaction", "满意度", "是否满意", "满意度评价", "回访结果",
                      "评价结果"],
        "source": ["source", "channel", "open_data_channel_type", "来源", "来源渠道", "渠道",
                   "诉求来源", "案件来源", "上报渠道"],
        **_COMMON_LOCATION,
    },
    "points": {
        "point_id": ["point_id", "id", "code", "点位编号", "点位编码", "点位代码", "编号",
                     "考察点位编号"],
        "name": ["name", "point_name", "点位名称", "名称", "考察点位", "点位"],
        "point_type": ["point_type", "type", "category", "点位类型", "类型", "点位类别", "类别"],
        **_COMMON_LOCATION,
    },
    "inspections": {
        "inspection_id": ["inspection_id", "id", "督查编号", "检查编号", "巡查编号", "记录编号",
                          "编号", "暗访编号"],
        "point_id": ["point_id", "点位编号", "点位编码", "点位代码", "考察点位编号"],
        "inspected_at": ["inspected_at", "inspection_time", "date", "督查时间", "检查时间",
                         "巡查时间", "暗访时间", "督查日期", "检查日期"],
        "team": ["team", "inspector", "督查组", "检查组", "巡查组", "督查人员", "检查人"],
        "problem_category": ["problem_category", "problem_type", "问题类型", "问题类别",
                             "问题分类"],
        "problems": ["problems", "problem_count", "问题数量", "问题数", "发现问题数"],
        "deduction": ["deduction", "points_deducted", "扣分", "扣分值", "扣分数"],
        "rectify_due": ["rectify_due", "rectification_deadline", "整改时限", "整改期限",
                        "整改截止时间"],
        "rectified_at": ["rectified_at", "rectified", "整改完成时间", "整改时间", "销号时间",
                         "完成整改时间"],
        **_COMMON_LOCATION,
    },
}

_BRACKETS = re.compile(r"[（(\[【].*?[）)\]】]")
_JUNK = re.compile(r"[\s_\-–—.:：/\\*]+")


def header_key(name: object) -> str:
    """Comparable form of a column header."""
    s = str(name).strip().lower().lstrip("\ufeff")
    s = _BRACKETS.sub("", s)
    return _JUNK.sub("", s)


def alias_table(kind: str) -> dict[str, str]:
    """header_key -> canonical field for ``kind`` (first listed field wins)."""
    table: dict[str, str] = {}
    for canon, names in ALIASES[kind].items():
        for n in names:
            table.setdefault(header_key(n), canon)
    return table


def recognise_columns(columns: list[str], kind: str) -> dict[str, str]:
    """Canonical field -> source column, for the headers recognised automatically.

    When two columns map to one field, the first wins (and the second stays in ``extra``).
    """
    table = alias_table(kind)
    found: dict[str, str] = {}
    for col in columns:
        canon = table.get(header_key(col))
        if canon and canon not in found:
            found[canon] = col
    return found


def header_score(cells: list[object], kind: str | None = None) -> int:
    """How many cells of a row look like headers we know (to find the header row)."""
    kinds = [kind] if kind else list(KINDS)
    best = 0
    for k in kinds:
        table = alias_table(k)
        best = max(best, len({table[h] for c in cells if c is not None
                              and (h := header_key(c)) in table}))
    return best
