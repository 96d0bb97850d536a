import AdminCore
import CChassis
import PluginKit

/// libadmin.so's one exported symbol.
@c(chassis_plugin_entry)
public func chassisPluginEntry(major: UInt32, minor: UInt32) -> UnsafePointer<chassis_plugin_descriptor>? {
    PluginExport.descriptor(for: AdminCore.AdminPlugin.self)
}
