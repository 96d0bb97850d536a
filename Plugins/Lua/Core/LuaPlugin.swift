import CChassis
import PluginKit

/// lua: the scripting layer. Registers "scripting" for the funnel, running MySQL Proxy 0.8 style
/// scripts (--lua-script, or MySQL Proxy's --proxy-lua-script) on LuaJIT.
public final class LuaPlugin: ChassisPlugin {
    public static let definition = PluginDefinition(
        name: "lua", version: "1.0.0",
        summary: "Scripting with MySQL Proxy 0.8 Lua scripts (LuaJIT): the scripting service the funnel calls.",
        provides: [.init(CHASSIS_SCRIPTING_SERVICE, version: UInt32(CHASSIS_SCRIPTING_VERSION))],
        options: [
            .init("script", .string, help: "The Lua script (MySQL Proxy's --proxy-lua-script); reloaded when the file changes."),
            .init("reload-check-interval", .double, default: "1",
                  help: "Seconds between checks of the script file for changes (0: before every hook)."),
        ])

    private let context: PluginContext
    let runtime: ScriptingRuntime

    public init(context: PluginContext) throws {
        self.context = context
        let script = context.option("script").flatMap { $0.isEmpty ? nil : $0 }
        runtime = try ScriptingRuntime(script: script, checkInterval: context.doubleOption("reload-check-interval") ?? 1) {
            level, message in
            context.log(PluginContext.LogLevel(rawValue: level) ?? .info, message)
        }
        try context.registerService(CHASSIS_SCRIPTING_SERVICE, version: UInt32(CHASSIS_SCRIPTING_VERSION),
                                    vtable: ScriptingService.table, instance: ScriptingService.instance(runtime))
    }

    public func start() throws {
        guard let path = runtime.source?.path else {
            context.log(.warning, "no --lua-script given: scripting is off")
            return
        }
        if runtime.check() {
            context.log(.info, "script \(path) loaded")
        } else {
            context.log(.error, "script \(path) does not load; clients get ERR 1105 until it is fixed (it is reloaded when it changes)")
        }
    }
}
