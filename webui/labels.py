"""Chinese labels for the stored English codes (document kinds, event kinds)."""

KINDS_ZH = {
    "suggestion_reply": "建议答复",
    "proposal_reply": "提案答复",
    "policy": "政策文件",
    "interpretation": "政策解读",
    "report": "工作报告",
    "notice": "通知公告",
}
EVENTS_ZH = {
    "new": "新发布",
    "edited": "内容修改",
    "metadata_changed": "信息变更",
    "validity_changed": "有效性变更",
    "withdrawn": "已撤下",
    "reappeared": "重新上线",
}
