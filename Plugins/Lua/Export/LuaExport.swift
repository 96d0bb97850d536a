import CChassis
import LuaCore
import PluginKit

@c(chassis_plugin_entry)
public func chassisPluginEntry(major: UInt32, minor: UInt32) -> UnsafePointer<chassis_plugin_descriptor>? {
    PluginExport.descriptor(for: LuaPlugin.self)
}
