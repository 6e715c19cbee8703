// Chinese first (the dealers' language), English on request; the choice is kept in the browser.

const zh = {
  app: "售后回访控制台", signin: "登录", signout: "退出", username: "用户名", password: "密码",
  demoUsers: "演示用户（密码 demo）", signinFailed: "用户名或密码错误", language: "English",
  languageLabel: "切换语言", dealer: "经销商", role: "角色", loading: "加载中…", refresh: "刷新",
  oidcNote: "请通过集团统一身份认证（OIDC）登录。",
  "nav.workbench": "回访工作台", "nav.board": "投诉看板", "nav.dashboard": "月度报表",
  "nav.inbox": "数据收件箱", noPages: "您的角色没有可用页面。",
  // workbench
  next: "下一位客户", nextKey: "Alt+N", release: "放回队列", emptyQueue: "队列已空：目前没有到期的回访任务。",
  leaseLost: "租约已失效：该任务已回到队列，请领取下一位客户。", leaseLeft: "租约剩余", leaseExtended: "已自动续约",
  customer: "客户", vehicle: "车辆", workOrder: "工单", purposes: "本次回访目的", advisor: "服务顾问",
  dueAt: "到期时间", attempt: "第几次尝试", channel: "渠道", phone: "电话", reveal: "显示号码",
  hide: "隐藏号码", dial: "拨号", revealAudited: "完整号码仅对持有租约的专员显示，查看已由回访服务记入审计。",
  questionnaire: "问卷（请逐项读出）", outcome: "回访结果", scores: "评分（0–10）",
  words: "客户原话", complaintStated: "客户明确表示投诉", callbackAt: "约定回电时间",
  optOut: "退订的联系类型（不选 = 全部）", submit: "提交结果", submitKey: "Ctrl+Enter",
  submitted: "结果已提交", history: "车辆档案与回访历史", visits: "进厂记录", contacts: "联系计划",
  shortcuts: "快捷键：Alt+N 下一位；Alt+1…7 选择结果；Alt+R 显示号码；Ctrl+Enter 提交",
  noTask: "点击“下一位客户”开始。",
  "outcome.reached": "已接通", "outcome.no_answer": "无人接听", "outcome.busy": "占线",
  "outcome.wrong_number": "号码错误", "outcome.refused": "拒绝回访", "outcome.call_back_later": "稍后回电",
  "outcome.opted_out": "退订",
  "item.attitude": "您对服务顾问的接待态度满意吗？", "item.environment": "您对店内环境和休息区满意吗？",
  "item.service_process": "您对整个服务流程满意吗？", "item.quality": "车辆维修保养质量是否让您满意？",
  "item.charges": "您对收费的透明度和合理性满意吗？", "item.timeliness": "交车是否及时？",
  "item.overall": "总体而言，您对本次服务的满意度是多少分（0–10）？",
  "purpose.service_call_day3": "维修后第3天回访", "purpose.sms_survey_day7": "第7天短信调查",
  "purpose.service_call_day30": "第30天回访", "purpose.sales_call_day3": "新车交付第3天回访",
  "purpose.first_maintenance_reminder": "首保提醒", "purpose.maintenance_reminder": "保养提醒",
  "purpose.birthday_care": "生日关怀", "purpose.insurance_expiry_care": "保险到期关怀",
  "purpose.licence_expiry_care": "驾照到期关怀", "purpose.lapsed_customer_recall": "流失客户召回",
  "purpose.complaint_confirmation": "投诉解决确认",
  "short.attitude": "接待态度", "short.environment": "环境", "short.service_process": "服务流程",
  "short.quality": "维修质量", "short.charges": "收费", "short.timeliness": "及时性", "short.overall": "总体",
  "cstate.pending": "待执行", "cstate.due": "已到期", "cstate.merged": "已合并", "cstate.suppressed": "已抑制",
  "cstate.cancelled": "已取消", "cstate.done": "已完成", "cstate.unreachable": "无法联系",
  "step.gm_notice": "通报总经理", "step.feedback": "责任人反馈", "step.reply": "答复客户",
  "dstatus.pending": "进行中", "dstatus.due_soon": "即将到期", "dstatus.overdue": "已超期",
  "dstatus.met": "按时完成", "dstatus.met_late": "逾期完成", "dstatus.waived": "免除",
  ticketHistory: "处理记录",
  // board
  state: "状态", grade: "等级", owner: "负责人", overdueOnly: "仅超期", all: "全部", ticket: "工单号",
  due: "截止", overdue: "已超期", dueSoon: "即将到期", onTime: "正常", noTickets: "没有符合条件的投诉。",
  deadlines: "时限", actions: "可执行操作", text: "说明", toRole: "转给角色", toPerson: "转给人员",
  rootCause: "根本原因类别", actionTaken: "采取的措施", amount: "金额（元）", approvedBy: "批准人",
  approvedAt: "批准时间", customerConfirmed: "客户已确认解决", done: "操作成功", lowItems: "低分项",
  remaining: "剩余", step: "步骤", status: "状态", holder: "处理人",
  "state.opened": "新建", "state.acknowledged": "已受理", "state.investigating": "调查中",
  "state.replied": "已答复", "state.resolved": "已解决", "state.confirming": "待确认",
  "state.closed": "已关闭", "state.reopened": "重新打开",
  "action.acknowledge": "受理", "action.note": "备注", "action.reassign": "转派", "action.reply": "答复客户",
  "action.review": "审核", "action.resolve": "解决", "action.compensation": "补偿", "action.close": "关闭",
  "action.reopen": "重新打开",
  // dashboard
  month: "月份", downloadXlsx: "下载 XLSX", downloadPdf: "下载 PDF", downloadMissing: "报表文件暂不可用",
  contactsMade: "回访次数", reached: "接通", unreached: "未接通", declined: "拒访/退订",
  satisfaction: "满意率", averageScores: "各项平均分", outcomes: "回访结果构成",
  complaintsByGrade: "新增投诉（按等级）", trend: "满意率趋势（近6个月）", numbers: "数据",
  noData: "本月暂无数据", complaintsOpened: "新增投诉", scoredAnswers: "有效评分",
  // inbox
  rejections: "被拒记录", reasons: "原因", fix: "修正并提交", replay: "重新处理", record: "原始记录（可编辑）",
  noRejections: "没有待处理的被拒记录。", importFile: "文件导入（JSON / JSONL，DMS 格式）",
  importStart: "开始导入", importDone: "导入完成", receivedAt: "接收时间", invalidJson: "JSON 格式错误",
  accepted: "已接收", duplicate: "重复", corrected: "已更正", rejected: "被拒", errorReport: "错误报告",
};

const en = {
  app: "After-sales console", signin: "Sign in", signout: "Sign out", username: "User name",
  password: "Password", demoUsers: "Demo users (password demo)", signinFailed: "Unknown user or wrong password",
  language: "中文", languageLabel: "Switch language", dealer: "Dealer", role: "Role", loading: "Loading…",
  refresh: "Refresh", oidcNote: "Sign in at the dealer group's identity provider (OIDC).",
  "nav.workbench": "Agent workbench", "nav.board": "Complaints board", "nav.dashboard": "Monthly report",
  "nav.inbox": "Data inbox", noPages: "Your role has no pages.",
  next: "Next customer", nextKey: "Alt+N", release: "Give back", emptyQueue: "The queue is empty: no follow-up is due right now.",
  leaseLost: "Lease lost: the task went back to the queue. Take the next customer.", leaseLeft: "Lease left",
  leaseExtended: "Lease extended", customer: "Customer", vehicle: "Vehicle", workOrder: "Work order",
  purposes: "Purposes of this contact", advisor: "Service advisor", dueAt: "Due", attempt: "Attempt",
  channel: "Channel", phone: "Phone", reveal: "Reveal number", hide: "Hide number", dial: "Dial",
  revealAudited: "Whole numbers are shown only to the agent holding the lease; contact audits it.",
  questionnaire: "Questionnaire (read out each item)", outcome: "Outcome", scores: "Scores (0–10)",
  words: "Customer's words", complaintStated: "Customer states a complaint", callbackAt: "Call back at",
  optOut: "Contact kinds refused (none = all)", submit: "Submit result", submitKey: "Ctrl+Enter",
  submitted: "Result submitted", history: "Vehicle file and contact history", visits: "Visits",
  contacts: "Planned contacts",
  shortcuts: "Shortcuts: Alt+N next; Alt+1…7 outcome; Alt+R reveal; Ctrl+Enter submit",
  noTask: "Press “Next customer” to start.",
  "outcome.reached": "Reached", "outcome.no_answer": "No answer", "outcome.busy": "Busy",
  "outcome.wrong_number": "Wrong number", "outcome.refused": "Refused", "outcome.call_back_later": "Call back later",
  "outcome.opted_out": "Opted out",
  "item.attitude": "Were you satisfied with the advisor's attitude?", "item.environment": "With the premises and lounge?",
  "item.service_process": "With the service process as a whole?", "item.quality": "With the quality of the work?",
  "item.charges": "With the charges and their explanation?", "item.timeliness": "Was the car ready on time?",
  "item.overall": "Overall, how satisfied are you (0–10)?",
  "purpose.service_call_day3": "Day-3 call", "purpose.sms_survey_day7": "Day-7 SMS survey",
  "purpose.service_call_day30": "Day-30 call", "purpose.sales_call_day3": "Day-3 delivery call",
  "purpose.first_maintenance_reminder": "First maintenance", "purpose.maintenance_reminder": "Maintenance reminder",
  "purpose.birthday_care": "Birthday", "purpose.insurance_expiry_care": "Insurance expiry",
  "purpose.licence_expiry_care": "Licence expiry", "purpose.lapsed_customer_recall": "Lapsed customer recall",
  "purpose.complaint_confirmation": "Complaint confirmation",
  "short.attitude": "Attitude", "short.environment": "Premises", "short.service_process": "Process",
  "short.quality": "Quality", "short.charges": "Charges", "short.timeliness": "Timeliness", "short.overall": "Overall",
  "cstate.pending": "Pending", "cstate.due": "Due", "cstate.merged": "Merged", "cstate.suppressed": "Suppressed",
  "cstate.cancelled": "Cancelled", "cstate.done": "Done", "cstate.unreachable": "Unreachable",
  "step.gm_notice": "GM notice", "step.feedback": "Feedback", "step.reply": "Reply",
  "dstatus.pending": "Running", "dstatus.due_soon": "Due soon", "dstatus.overdue": "Overdue",
  "dstatus.met": "Met", "dstatus.met_late": "Met late", "dstatus.waived": "Waived",
  ticketHistory: "Ticket history",
  state: "State", grade: "Grade", owner: "Owner", overdueOnly: "Overdue only", all: "All", ticket: "Ticket",
  due: "Due", overdue: "Overdue", dueSoon: "Due soon", onTime: "On time", noTickets: "No complaints match.",
  deadlines: "Deadlines", actions: "Actions", text: "Text", toRole: "To role", toPerson: "To person",
  rootCause: "Root cause category", actionTaken: "Action taken", amount: "Amount (CNY)", approvedBy: "Approved by",
  approvedAt: "Approved at", customerConfirmed: "Customer confirmed", done: "Done", lowItems: "Low items",
  remaining: "Left", step: "Step", status: "Status", holder: "Holder",
  "state.opened": "Opened", "state.acknowledged": "Acknowledged", "state.investigating": "Investigating",
  "state.replied": "Replied", "state.resolved": "Resolved", "state.confirming": "Confirming",
  "state.closed": "Closed", "state.reopened": "Reopened",
  "action.acknowledge": "Acknowledge", "action.note": "Note", "action.reassign": "Reassign", "action.reply": "Reply",
  "action.review": "Review", "action.resolve": "Resolve", "action.compensation": "Compensation",
  "action.close": "Close", "action.reopen": "Reopen",
  month: "Month", downloadXlsx: "Download XLSX", downloadPdf: "Download PDF", downloadMissing: "Report file not available",
  contactsMade: "Contacts made", reached: "Reached", unreached: "Unreached", declined: "Declined",
  satisfaction: "Satisfaction", averageScores: "Average scores", outcomes: "Outcomes",
  complaintsByGrade: "Complaints opened by grade", trend: "Satisfaction trend (6 months)", numbers: "Numbers",
  noData: "No data this month", complaintsOpened: "Complaints opened", scoredAnswers: "Scored answers",
  rejections: "Rejected records", reasons: "Reasons", fix: "Fix and submit", replay: "Replay",
  record: "Raw record (editable)", noRejections: "No open rejected records.",
  importFile: "File import (JSON / JSONL, DMS format)", importStart: "Import", importDone: "Import finished",
  receivedAt: "Received", invalidJson: "Invalid JSON", accepted: "Accepted", duplicate: "Duplicate",
  corrected: "Corrected", rejected: "Rejected", errorReport: "Error report",
};

const DICTS = { zh, en };
let lang = localStorage.getItem("aftersales.console.lang") === "en" ? "en" : "zh";

export function t(key) {
  return DICTS[lang][key] ?? zh[key] ?? key;
}

export function currentLang() {
  return lang;
}

export function toggleLang() {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("aftersales.console.lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
