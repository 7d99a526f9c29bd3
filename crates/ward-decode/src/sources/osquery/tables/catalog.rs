//! The osquery tables Ward maps to ECS, with their column mappings. Column names follow the
//! osquery schema (osquery.io/schema); `docs/sources/osquery.md` has the same list for users.

use ward_model::Event;

use super::special::{es_event_type, file_action, file_type, last_type, socket_action, syscall, transport};
use super::{Columns, Lifecycle, Table, To};
use crate::util::Object;

const PROCESS: Lifecycle = Lifecycle { added: &["start"], removed: &["end"], snapshot: &["info"] };
const PROCESS_EVENT: Lifecycle = Lifecycle { added: &["start"], removed: &["info"], snapshot: &["start"] };
const COMMAND: Lifecycle = Lifecycle { added: &["start"], removed: &["info"], snapshot: &["info"] };
const NETWORK: Lifecycle = Lifecycle { added: &["start"], removed: &["end"], snapshot: &["info"] };
const NETWORK_EVENT: Lifecycle =
    Lifecycle { added: &["connection"], removed: &["info"], snapshot: &["connection"] };
const FILE: Lifecycle = Lifecycle { added: &["creation"], removed: &["deletion"], snapshot: &["info"] };
const FILE_EVENT: Lifecycle = Lifecycle { added: &["change"], removed: &["info"], snapshot: &["change"] };
const CONFIG: Lifecycle = Lifecycle { added: &["creation"], removed: &["deletion"], snapshot: &["info"] };
const PACKAGE: Lifecycle =
    Lifecycle { added: &["installation"], removed: &["deletion"], snapshot: &["info"] };
const SESSION: Lifecycle = Lifecycle { added: &["start"], removed: &["end"], snapshot: &["info"] };
const USER: Lifecycle =
    Lifecycle { added: &["user", "creation"], removed: &["user", "deletion"], snapshot: &["user", "info"] };
const GROUP: Lifecycle = Lifecycle {
    added: &["group", "creation"],
    removed: &["group", "deletion"],
    snapshot: &["group", "info"],
};
const DRIVER: Lifecycle = Lifecycle { added: &["start"], removed: &["end"], snapshot: &["info"] };
const HOST: Lifecycle = Lifecycle { added: &["change"], removed: &["change"], snapshot: &["info"] };

/// Columns shared by the process tables.
const PROCESS_COLS: Columns = &[
    ("pid", To::Int("process.pid")),
    ("parent", To::Int("process.parent.pid")),
    ("name", To::Text("process.name")),
    ("path", To::Text("process.executable")),
    ("cmdline", To::Text("process.command_line")),
    ("cwd", To::Text("process.working_directory")),
    ("uid", To::Text("user.id")),
    ("uid", To::Text("process.real_user.id")),
    ("euid", To::Text("process.user.id")),
    ("gid", To::Text("process.real_group.id")),
    ("egid", To::Text("process.group.id")),
    ("username", To::User("user.name")),
];

/// Columns shared by the socket tables.
const SOCKET_COLS: Columns = &[
    ("pid", To::Int("process.pid")),
    ("local_address", To::Addr("source")),
    ("local_port", To::Port("source.port")),
    ("remote_address", To::Peer("destination")),
    ("remote_port", To::Port("destination.port")),
];

/// File metadata columns of `file` and `file_events`.
const FILE_META: Columns = &[
    ("inode", To::Text("file.inode")),
    ("uid", To::Text("file.uid")),
    ("gid", To::Text("file.gid")),
    ("mode", To::Text("file.mode")),
    ("size", To::Int("file.size")),
    ("atime", To::Time("file.accessed")),
    ("mtime", To::Time("file.mtime")),
    ("ctime", To::Time("file.ctime")),
];

const HASHES: Columns = &[
    ("md5", To::Hash("file.hash.md5")),
    ("sha1", To::Hash("file.hash.sha1")),
    ("sha256", To::Hash("file.hash.sha256")),
];

const PACKAGE_COLS: Columns = &[
    ("name", To::Text("package.name")),
    ("version", To::Text("package.version")),
    ("arch", To::Text("package.architecture")),
    ("size", To::Int("package.size")),
    ("license", To::Text("package.license")),
    ("path", To::Text("package.path")),
];

/// A table with no constants, not evented.
const fn table(
    name: &'static str,
    category: &'static [&'static str],
    lifecycle: Lifecycle,
    columns: &'static [Columns],
    special: Option<fn(&Object, &mut Event)>,
) -> Table {
    Table { name, category, lifecycle, evented: false, columns, constants: &[], special }
}

/// An evented table: its `time` column is when the event happened.
const fn evented(
    name: &'static str,
    category: &'static [&'static str],
    lifecycle: Lifecycle,
    columns: &'static [Columns],
    special: Option<fn(&Object, &mut Event)>,
) -> Table {
    Table { name, category, lifecycle, evented: true, columns, constants: &[], special }
}

/// A package table with its `package.type` constant.
const fn package(
    name: &'static str,
    kind: &'static [(&'static str, &'static str)],
    columns: &'static [Columns],
) -> Table {
    Table {
        name,
        category: &["package"],
        lifecycle: PACKAGE,
        evented: false,
        columns,
        constants: kind,
        special: None,
    }
}

/// Every mapped table.
pub(crate) static TABLES: &[Table] = &[
    // Processes.
    table(
        "processes",
        &["process"],
        PROCESS,
        &[PROCESS_COLS, &[("start_time", To::Time("process.start"))]],
        None,
    ),
    evented("process_events", &["process"], PROCESS_EVENT, &[PROCESS_COLS], Some(syscall)),
    evented(
        "bpf_process_events",
        &["process"],
        PROCESS_EVENT,
        &[
            PROCESS_COLS,
            &[("tid", To::Int("process.thread.id")), ("exit_code", To::Int("process.exit_code"))],
        ],
        Some(syscall),
    ),
    evented(
        "es_process_events",
        &["process"],
        PROCESS_EVENT,
        &[
            PROCESS_COLS,
            &[
                ("signing_id", To::Text("process.code_signature.signing_id")),
                ("team_id", To::Text("process.code_signature.team_id")),
                ("exit_code", To::Int("process.exit_code")),
            ],
        ],
        Some(es_event_type),
    ),
    table("shell_history", &["process"], COMMAND, &[SHELL_COLS], None),
    // Network.
    table("process_open_sockets", &["network"], NETWORK, &[SOCKET_COLS], Some(transport)),
    table(
        "listening_ports",
        &["network"],
        NETWORK,
        &[&[
            ("pid", To::Int("process.pid")),
            ("address", To::Addr("destination")),
            ("port", To::Port("destination.port")),
        ]],
        Some(transport),
    ),
    evented(
        "socket_events",
        &["network"],
        NETWORK_EVENT,
        &[SOCKET_COLS, &[("path", To::Text("process.executable"))]],
        Some(socket_action),
    ),
    evented(
        "bpf_socket_events",
        &["network"],
        NETWORK_EVENT,
        &[
            SOCKET_COLS,
            &[("path", To::Text("process.executable")), ("parent", To::Int("process.parent.pid"))],
        ],
        Some(socket_action),
    ),
    // Users, groups, sessions.
    table(
        "users",
        &["iam"],
        USER,
        &[&[
            ("uid", To::Text("user.id")),
            ("gid", To::Text("user.group.id")),
            ("username", To::User("user.name")),
        ]],
        None,
    ),
    table(
        "groups",
        &["iam"],
        GROUP,
        &[&[("gid", To::Text("group.id")), ("groupname", To::Text("group.name"))]],
        None,
    ),
    table("logged_in_users", &["session"], SESSION, &[LOGIN_COLS, &[("user", To::User("user.name"))]], None),
    evented(
        "last",
        &["authentication", "session"],
        SESSION,
        &[LOGIN_COLS, &[("username", To::User("user.name"))]],
        Some(last_type),
    ),
    // Files.
    evented(
        "file_events",
        &["file"],
        FILE_EVENT,
        &[&[("target_path", To::Text("file.path"))], FILE_META, HASHES],
        Some(file_action),
    ),
    table(
        "file",
        &["file"],
        FILE,
        &[
            &[
                ("path", To::Text("file.path")),
                ("directory", To::Text("file.directory")),
                ("filename", To::Text("file.name")),
                ("btime", To::Time("file.created")),
            ],
            FILE_META,
        ],
        Some(file_type),
    ),
    table(
        "hash",
        &["file"],
        FILE,
        &[&[("path", To::Text("file.path")), ("directory", To::Text("file.directory"))], HASHES],
        None,
    ),
    table(
        "suid_bin",
        &["file"],
        FILE,
        &[&[
            ("path", To::Text("file.path")),
            ("username", To::Text("file.owner")),
            ("groupname", To::Text("file.group")),
        ]],
        None,
    ),
    // Persistence and configuration.
    table(
        "crontab",
        &["configuration"],
        CONFIG,
        &[&[("command", To::Text("process.command_line")), ("path", To::Text("file.path"))]],
        None,
    ),
    table(
        "authorized_keys",
        &["configuration"],
        CONFIG,
        &[&[
            ("uid", To::Text("user.id")),
            ("username", To::User("user.name")),
            ("key_file", To::Text("file.path")),
        ]],
        None,
    ),
    table(
        "user_ssh_keys",
        &["configuration"],
        CONFIG,
        &[&[("uid", To::Text("user.id")), ("path", To::Text("file.path"))]],
        None,
    ),
    table(
        "launchd",
        &["configuration"],
        CONFIG,
        &[&[
            ("path", To::Text("file.path")),
            ("program", To::Text("process.executable")),
            ("program_arguments", To::Text("process.command_line")),
            ("username", To::User("user.name")),
        ]],
        None,
    ),
    table(
        "startup_items",
        &["configuration"],
        CONFIG,
        &[&[("path", To::Text("process.executable")), ("username", To::User("user.name"))]],
        None,
    ),
    table(
        "services",
        &["configuration"],
        CONFIG,
        &[&[
            ("name", To::Text("service.name")),
            ("service_type", To::Text("service.type")),
            ("status", To::Text("service.state")),
            ("pid", To::Int("process.pid")),
            ("path", To::Text("process.command_line")),
            ("user_account", To::User("user.name")),
        ]],
        None,
    ),
    table(
        "systemd_units",
        &["configuration"],
        CONFIG,
        &[&[
            ("id", To::Text("service.name")),
            ("active_state", To::Text("service.state")),
            ("fragment_path", To::Text("file.path")),
            ("user", To::User("user.name")),
        ]],
        None,
    ),
    table(
        "scheduled_tasks",
        &["configuration"],
        CONFIG,
        &[&[("action", To::Text("process.command_line"))]],
        None,
    ),
    table("kernel_modules", &["driver"], DRIVER, &[], None),
    // Software inventory.
    package("deb_packages", &[("package.type", "deb")], &[PACKAGE_COLS]),
    package(
        "rpm_packages",
        &[("package.type", "rpm")],
        &[PACKAGE_COLS, &[("install_time", To::Time("package.installed"))]],
    ),
    package("homebrew_packages", &[("package.type", "brew")], &[PACKAGE_COLS]),
    package(
        "python_packages",
        &[("package.type", "pypi")],
        &[PACKAGE_COLS, &[("summary", To::Text("package.description"))]],
    ),
    package(
        "npm_packages",
        &[("package.type", "npm")],
        &[PACKAGE_COLS, &[("description", To::Text("package.description"))]],
    ),
    package("programs", &[], &[PACKAGE_COLS, &[("install_location", To::Text("package.path"))]]),
    // The host and the agent.
    table(
        "os_version",
        &["host"],
        HOST,
        &[&[
            ("name", To::Text("host.os.name")),
            ("version", To::Text("host.os.version")),
            ("platform", To::Text("host.os.platform")),
            ("platform_like", To::Text("host.os.family")),
            ("arch", To::Text("host.architecture")),
        ]],
        None,
    ),
    table(
        "system_info",
        &["host"],
        HOST,
        &[&[("hostname", To::Text("host.hostname")), ("cpu_type", To::Text("host.architecture"))]],
        None,
    ),
    table(
        "osquery_info",
        &["host"],
        HOST,
        &[&[("version", To::Text("agent.version")), ("instance_id", To::Text("agent.id"))]],
        None,
    ),
];

const SHELL_COLS: Columns = &[
    ("command", To::Text("process.command_line")),
    ("uid", To::Text("user.id")),
    ("username", To::User("user.name")),
];

const LOGIN_COLS: Columns = &[("host", To::Addr("source")), ("pid", To::Int("process.pid"))];
