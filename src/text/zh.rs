//! 简体中文. Full-width punctuation (，。：；（）“”), a space between Chinese and a name or
//! a Latin word, and the words phones in China use: 接听, 拒绝, 挂断, 未接来电, 扬声器.

use super::Words;
use crate::protocol::{MAX_NAME_CHARS, NameError, Reason, SYSTEM_USER};

pub const ZH: Words = Words {
    language_name: "中文",
    language: "语言",

    tagline: "点对点的私密视频通话。",
    pick_name: "你的名字",
    open: "打开",
    name_rule: "1–32 个字母、数字，或 _ - .",
    to_user: "要呼叫的名字",
    call: "视频通话",
    accept: "接听",
    decline: "拒绝",
    cancel: "取消",
    hang_up: "挂断",
    you: "你",
    you_audio_only: "你（没有摄像头：仅语音）",
    not_found: "找不到这个页面。",

    connecting: "正在连接…",
    ready: "准备就绪。输入名字，然后点“视频通话”。",
    name_in_use: "这个名字正在另一个窗口中使用。请关闭那个窗口，或换一个名字。",
    no_media_self: "没有可用的摄像头或麦克风，无法拨打或接听电话。",
    enter_name: "请输入要呼叫的人的名字。",
    self_call: "不能呼叫自己。",
    media_failed: "媒体连接失败。",
    camera_blocked: "此页面无权使用摄像头和麦克风：请允许访问（点地址栏里的摄像头图标，或在\
         浏览器的网站设置中更改），然后重试。",
    camera_in_use: "摄像头或麦克风正被其他应用占用：请先在那个应用中关闭，然后重试。",
    camera_missing: "没有找到摄像头或麦克风：请连接一个，然后重试。",
    camera_insecure: "浏览器只在安全页面上打开摄像头：请通过 HTTPS 打开 duet（见 README 中的\
         “On a phone”一节）。",
    ring_notice: "打开通话页面即可接听或拒绝。",
    call_ended: "通话已结束。",

    opening_camera: |to| format!("正在打开摄像头和麦克风，准备呼叫 {to}…"),
    ring_title: |from| format!("📞 {from} 来电"),
    no_connection,
    ringing_out: |to| format!("正在呼叫 {to}…"),
    ringing_in: |from| format!("{from} 正在呼叫你。"),
    in_call: |with| format!("正在与 {with} 通话。"),
    connecting_to: |with| format!("正在连接 {with}…"),
    ended,
    missed,
    you_cancelled: |to| format!("你取消了对 {to} 的呼叫。"),
    you_declined: |from| format!("你拒绝了 {from} 的来电。"),
    glare: |caller| format!("{caller} 正在同时呼叫你：请接听对方的来电。"),
    bad_name,

    on_a_phone: "在手机上打开",
    lan_qr_alt: "在手机上打开的地址的二维码",
    fingerprint: "证书 SHA-256：",
    no_qr: "无法生成此服务器地址的二维码。",
    no_lan_link: "无法获取此服务器的地址。",
    lan_hint,

    online: "在线",
    filter: "筛选名字",
    nobody_online: "没有其他人在线。",
    chats: "对话",
    groups: "群组",
    group_name: "新群组名称",
    group_members: "成员：名字，用逗号分隔",
    create_group: "创建群组",
    add_members: "添加成员：名字，用逗号分隔",
    add: "添加",
    message: "发消息",
    write: "输入消息",
    send: "发送",
    messages: "消息",
    unread: "未读",
    pick_conversation: "在列表中选一个人，或输入名字后点“发消息”。",
    in_a_call: "通话中",
    reconnecting: "正在重新连接服务器…",
    reconnecting_call: "连接已断开，正在重新连接…通话仍在继续。",
    relay_check: "测试中继",
    relay_running: "正在向 TURN 服务器请求中继…",
    relay_none: "没有配置 TURN 服务器，通话无法经中继转发。",
    call_lost: "连接断开期间，通话已结束。",
    self_message: "不能给自己发消息。",
    message_too_big: "这条消息太大，无法发送。请缩短，或分成几条发送。",
    unsent_too_long: "之前写的一条消息超出了服务器的长度限制，没有发出。",
    message_too_long: |chars, max| {
        format!("这条消息有 {chars} 个字符，最多只能发送 {max} 个。请缩短，或分成几条发送。")
    },
    chat_with: |name| format!("与 {name} 的对话"),
    group_title: |name, members| format!("{name} · {members} 位成员"),
    missed_call_line,
    relay_ok: |address| format!("中继可用：此浏览器获得了中继地址 {address}。"),
    relay_failed: |error| match error {
        Some(error) => format!("此浏览器无法使用中继：{error}。"),
        None => "此浏览器无法使用中继：没有获得中继地址。".to_owned(),
    },

    sign_in: "登录",
    sign_up: "注册账号",
    sign_out: "退出登录",
    name: "名字",
    password: "密码",
    new_password_rule: "至少 8 个字符。",
    keep: "保持登录",
    sign_up_hint: "注册后这个名字就归你了：它的页面、通话和聊天只有用你的密码才能打开。",
    sign_up_by_invite: "注册新账号需要这里某个人发来的邀请链接。",
    sign_up_closed: "新账号由本服务器的管理员创建。",
    open_name: "或者不注册，直接使用一个名字",
    open_name_hint: "任何人打开同一个名字都会进入它的页面，所以这只适合试用 duet。",
    signed_in_as: |name| format!("已登录为 {name}"),
    my_page: "你的通话页面",
    account: "账号",

    gate: |name| format!("{name} 的页面是私密的。请以 {name} 的身份登录后打开。"),
    gate_closed_names: "本服务器只为已登录的用户打开通话页面。",
    gate_other: |signed_in| format!("你已登录为 {signed_in}；在这里登录会切换此浏览器的账号。"),
    declined_elsewhere: |from| format!("来自 {from} 的来电已在另一台设备上拒绝。"),
    signed_out: "此页面已退出登录。",

    account_title: "你的账号",
    sessions: "已登录的浏览器",
    sessions_hint: "让不再使用的浏览器退出登录：它打开的页面会立即关闭。",
    this_browser: "此浏览器",
    signed_in_at: "登录于",
    last_seen: "最近活动",
    revoke: "退出登录",
    admin: "管理员",
    revoke_label: |device, current| {
        if current {
            format!("让 {device} 退出登录（此浏览器）")
        } else {
            format!("让 {device} 退出登录")
        }
    },
    change_password: "修改密码",
    current_password: "当前密码",
    new_password: "新密码",
    change_password_hint: "其他所有浏览器都会退出登录。",
    password_changed: "密码已修改。以你的身份登录的其他所有浏览器都已退出登录。",
    invite_title: "邀请别人",
    invite_hint: "此链接可让一个人在 7 天内注册账号。",
    invite: "生成邀请链接",
    invite_made: "把这个链接发给你邀请的人。它只显示这一次。",
    copy: "复制",
    copied: "已复制。",
    copy_failed: "无法复制：请选中链接，手动复制。",
    not_signed_in: "登录后即可查看你的账号。",

    invited: "你收到了邀请",
    invited_hint: "设置一个密码，注册你的账号。",
    invited_as: |name| format!("此邀请只能用于名字 {name}。"),
    invite_refused: "此邀请链接无法使用",
    home: "返回首页",

    wrong_sign_in: "名字或密码错误。",
    wrong_current_password: "当前密码不正确。",
    password_too_short: "密码至少需要 8 个字符。",
    password_too_long: "密码最多 256 个字符。",
    name_taken: "这个名字已被占用：请换一个。",
    signup_closed: "在此服务器上注册新账号需要邀请链接。",
    invite_unknown: "此邀请链接无效。",
    invite_used_up: "此邀请链接已被使用。",
    invite_expired: "此邀请链接已过期。",
    foreign_origin: "已拒绝：此表单来自另一个网站的页面（其 Origin 不是本服务器）。",
    too_many_attempts: |secs| format!("尝试次数过多。请在 {secs} 秒后重试。"),
    invite_for: |name| format!("此邀请链接只能用于名字 {name}。"),
};

fn no_connection(peer: &str, relayed: bool) -> String {
    if relayed {
        format!(
            "与 {peer} 的通话无法接通，即使通过 TURN 中继也不行：请检查中继是否可达\
             （测试中继）。"
        )
    } else {
        format!(
            "与 {peer} 的通话无法接通：你们的网络阻止了直接连接。TURN 中继（见 README）\
             可以转发这个通话。"
        )
    }
}

fn ended(reason: Reason, peer: &str) -> String {
    match reason {
        Reason::Declined => format!("{peer} 拒绝了通话。"),
        Reason::Busy => format!("{peer} 正在另一个通话中，请稍后再拨。"),
        Reason::Offline => format!("{peer} 不在线。"),
        Reason::Cancelled => format!("{peer} 取消了通话。"),
        Reason::Timeout => format!("{peer} 没有接听。"),
        Reason::HungUp => format!("{peer} 已挂断。"),
        Reason::Gone => format!("{peer} 已离开：对方的页面已关闭或断开了连接。"),
        Reason::NoMedia => format!("{peer} 没有可用的摄像头或麦克风。"),
        Reason::NoConnection => no_connection(peer, false),
        Reason::AnsweredElsewhere => format!("来自 {peer} 的来电已在另一台设备上接听。"),
        Reason::Other => format!("与 {peer} 的通话已结束。"),
    }
}

fn missed(reason: Reason, caller: &str) -> String {
    match reason {
        Reason::Timeout => format!("来自 {caller} 的未接来电。"),
        // The ring reached several of the callee's devices and one of them declined.
        Reason::Declined => format!("来自 {caller} 的来电已在另一台设备上拒绝。"),
        _ => ended(reason, caller),
    }
}

fn bad_name(why: &NameError) -> String {
    let why = match why {
        NameError::Empty => "名字至少要有一个字符".to_owned(),
        NameError::TooLong => format!("名字最多 {MAX_NAME_CHARS} 个字符"),
        NameError::BadChar(c) => {
            format!("名字里不能有“{c}”：只能用字母、数字，或 _ - .")
        }
        NameError::Reserved => format!("名字“{SYSTEM_USER}”已被系统保留"),
    };
    format!("名字无效：{why}。")
}

fn lan_hint(on_lan: bool, secure: bool) -> &'static str {
    match (on_lan, secure) {
        (true, true) => {
            "用同一网络中的手机扫描它。手机浏览器会对证书提示一次警告：请核对指纹与下方的\
             一致，然后继续。"
        }
        (true, false) => {
            "手机只在 HTTPS 页面上打开摄像头：要呼叫手机，请用 tls = true（或 --tls）\
             启动 duet。"
        }
        (false, _) => {
            "只有本机能打开这个地址。要让手机访问，请在局域网上以 HTTPS 监听：在 \
             Leptos.toml 中设置 site_addr = \"0.0.0.0:3000\" 和 tls = true。"
        }
    }
}

fn missed_call_line(reason: Option<Reason>, caller: &str, me: &str) -> String {
    let why = match reason {
        Some(Reason::Declined) => "（已拒绝）",
        Some(Reason::Busy) => "（忙线）",
        Some(Reason::Offline) => "（不在线）",
        Some(Reason::Cancelled) => "（已取消）",
        Some(Reason::Timeout) => "（未接听）",
        Some(Reason::NoMedia) => "（没有摄像头或麦克风）",
        Some(Reason::NoConnection) => {
            return if caller == me {
                "你发起了呼叫，但无法接通（没有可用的网络路径）。".to_owned()
            } else {
                format!("来自 {caller} 的呼叫无法接通（没有可用的网络路径）。")
            };
        }
        _ => "",
    };
    if caller == me {
        format!("你发起了呼叫，对方未接听{why}。")
    } else {
        format!("来自 {caller} 的未接来电{why}。")
    }
}
